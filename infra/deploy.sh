#!/usr/bin/env bash
# Builds, packages and deploys opsvoice with infra/template.json. See infra/README.md.
#
# Usage: STACK=opsvoice BUCKET=my-artifacts DOMAIN_PREFIX=acme-opsvoice infra/deploy.sh [extra parameter overrides]
#   Slack: also SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=xoxb-...; notifications: Notifications=on
#   (routes from infra/notify.toml, or NOTIFY_FILE=path).
#   e.g. infra/deploy.sh Clusters=prod,staging AlexaSkillId=amzn1.ask.skill.... AlexaVendorId=M1ABC...
#   Acting: turned on in infra/policy.toml ([actions] enabled = true); the actions role is made
#   unless Actions=off, and SilenceAlarmPrefix=team-a- limits the alarms it may silence.
#
# Needs: cargo-lambda (cargo install cargo-lambda; it brings zig for the Lambda glibc), zip,
# and the AWS CLI with credentials for the target account and region.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${STACK:?set STACK to the CloudFormation stack name}"
: "${BUCKET:?set BUCKET to an S3 bucket in the target region for the artifacts}"
: "${DOMAIN_PREFIX:?set DOMAIN_PREFIX to the Cognito hosted UI domain prefix}"
PREFIX="${PREFIX:-opsvoice}"

for tool in cargo-lambda zip aws openssl; do
    command -v "$tool" >/dev/null || { echo "error: $tool is not installed (see infra/README.md)" >&2; exit 1; }
done

echo "==> 1/5 building the Lambda bootstrap (arm64, provided.al2023)"
cargo lambda build --release --arm64 --bin opsvoice

echo "==> 2/5 packaging bootstrap + policy.toml + notify.toml"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp target/lambda/opsvoice/bootstrap "$staging/bootstrap"
cp infra/policy.toml "$staging/policy.toml"
cp "${NOTIFY_FILE:-infra/notify.toml}" "$staging/notify.toml"
(cd "$staging" && zip -q -9 function.zip bootstrap policy.toml notify.toml)

echo "==> 3/5 generating the Lex bot from intents/ (names from your ECS and CloudWatch)"
OPSVOICE_BACKEND=aws cargo run --release --quiet -- models build --from-backend \
    --bot-name "${STACK}-opsvoice" --out target/models

echo "==> 4/5 uploading to s3://$BUCKET/$PREFIX/"
code_key="$PREFIX/function-$(sha256sum "$staging/function.zip" | cut -c1-16).zip"
lex_key="$PREFIX/lex-$(sha256sum target/models/lex.zip | cut -c1-16).zip"
aws s3 cp --only-show-errors "$staging/function.zip" "s3://$BUCKET/$code_key"
aws s3 cp --only-show-errors target/models/lex.zip "s3://$BUCKET/$lex_key"

# The session key: every instance seals and opens session contexts with it, so a
# conversation survives moving to another instance. Made once.
if ! session_arn=$(aws secretsmanager describe-secret --secret-id "$STACK/session-key" --query ARN --output text 2>/dev/null); then
    echo "==> making the session key in Secrets Manager ($STACK/session-key)"
    session_arn=$(aws secretsmanager create-secret --name "$STACK/session-key" \
        --secret-string "$(openssl rand -base64 32)" --query ARN --output text)
fi

# The Slack app (optional): its credentials and the store key go into Secrets Manager; the
# template resolves them into the function's KMS-encrypted environment.
slack=()
if [ -n "${SLACK_SIGNING_SECRET:-}" ] && [ -n "${SLACK_BOT_TOKEN:-}" ]; then
    echo "==> storing the Slack credentials and the store key in Secrets Manager"
    slack_json=$(printf '{"signing_secret":"%s","bot_token":"%s"}' "$SLACK_SIGNING_SECRET" "$SLACK_BOT_TOKEN")
    if slack_arn=$(aws secretsmanager describe-secret --secret-id "$STACK/slack" --query ARN --output text 2>/dev/null); then
        aws secretsmanager put-secret-value --secret-id "$slack_arn" --secret-string "$slack_json" >/dev/null
    else
        slack_arn=$(aws secretsmanager create-secret --name "$STACK/slack" --secret-string "$slack_json" --query ARN --output text)
    fi
    # The store key is made once: a new one would make every stored link unreadable.
    if ! key_arn=$(aws secretsmanager describe-secret --secret-id "$STACK/store-key" --query ARN --output text 2>/dev/null); then
        key_arn=$(aws secretsmanager create-secret --name "$STACK/store-key" \
            --secret-string "$(openssl rand -base64 32)" --query ARN --output text)
    fi
    slack=(SlackSecretArn="$slack_arn" StoreKeySecretArn="$key_arn")
fi

deploy() {
    aws cloudformation deploy \
        --stack-name "$STACK" \
        --template-file infra/template.json \
        --capabilities CAPABILITY_IAM \
        --no-fail-on-empty-changeset \
        --parameter-overrides \
            ArtifactBucket="$BUCKET" FunctionCodeKey="$code_key" LexBotKey="$lex_key" \
            CognitoDomainPrefix="$DOMAIN_PREFIX" SessionKeySecretArn="$session_arn" \
            "${slack[@]}" "$@"
}
echo "==> 5/5 deploying stack $STACK"
deploy "$@"
if [ ${#slack[@]} -gt 0 ]; then
    # Account linking needs the function's own URL (link buttons, the Cognito callback),
    # which exists only after the first deploy.
    url=$(aws cloudformation describe-stacks --stack-name "$STACK" \
        --query "Stacks[0].Outputs[?OutputKey=='FunctionUrl'].OutputValue" --output text)
    echo "==> wiring account linking to ${url%/}"
    deploy PublicUrl="${url%/}" "$@"
fi
aws cloudformation describe-stacks --stack-name "$STACK" \
    --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output table
