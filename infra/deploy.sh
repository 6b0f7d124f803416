#!/usr/bin/env bash
# Builds, packages and deploys opsvoice with infra/template.json. See infra/README.md.
#
# Usage: STACK=opsvoice BUCKET=my-artifacts DOMAIN_PREFIX=acme-opsvoice infra/deploy.sh [extra parameter overrides]
#   e.g. infra/deploy.sh Clusters=prod,staging AlexaSkillId=amzn1.ask.skill.... AlexaVendorId=M1ABC...
#
# Needs: cargo-lambda (cargo install cargo-lambda; it brings zig for the Lambda glibc), zip,
# and the AWS CLI with credentials for the target account and region.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${STACK:?set STACK to the CloudFormation stack name}"
: "${BUCKET:?set BUCKET to an S3 bucket in the target region for the artifacts}"
: "${DOMAIN_PREFIX:?set DOMAIN_PREFIX to the Cognito hosted UI domain prefix}"
PREFIX="${PREFIX:-opsvoice}"

for tool in cargo-lambda zip aws; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (see infra/README.md)" >&2; exit 1; }
done

echo "==> 1/5 building the Lambda bootstrap (arm64, provided.al2023)"
cargo lambda build --release --arm64 --bin opsvoice

echo "==> 2/5 packaging bootstrap + policy.toml"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp target/lambda/opsvoice/bootstrap "$staging/bootstrap"
cp infra/policy.toml "$staging/policy.toml"
(cd "$staging" && zip -q -9 function.zip bootstrap policy.toml)

echo "==> 3/5 generating the Lex bot from intents/ (names from your ECS and CloudWatch)"
OPSVOICE_BACKEND=aws cargo run --release --quiet -- models build --from-backend \
    --bot-name "${STACK}-opsvoice" --out target/models

echo "==> 4/5 uploading to s3://$BUCKET/$PREFIX/"
code_key="$PREFIX/function-$(sha256sum "$staging/function.zip" | cut -c1-16).zip"
lex_key="$PREFIX/lex-$(sha256sum target/models/lex.zip | cut -c1-16).zip"
aws s3 cp --only-show-errors "$staging/function.zip" "s3://$BUCKET/$code_key"
aws s3 cp --only-show-errors target/models/lex.zip "s3://$BUCKET/$lex_key"

echo "==> 5/5 deploying stack $STACK"
aws cloudformation deploy \
    --stack-name "$STACK" \
    --template-file infra/template.json \
    --capabilities CAPABILITY_IAM \
    --parameter-overrides \
        ArtifactBucket="$BUCKET" FunctionCodeKey="$code_key" LexBotKey="$lex_key" \
        CognitoDomainPrefix="$DOMAIN_PREFIX" "$@"
aws cloudformation describe-stacks --stack-name "$STACK" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table
