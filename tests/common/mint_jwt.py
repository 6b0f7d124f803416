"""Mints a JWT signed with moto's own Cognito signing key (the one its JWKS serves), so
tests can forge tokens with any header and claims. Usage: mint_jwt.py HEADER_JSON CLAIMS_JSON
"""
import json
import sys

from joserfc import jwk, jwt
from moto.utilities.utils import load_resource

key = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
print(jwt.encode(json.loads(sys.argv[1]), json.loads(sys.argv[2]), key))
