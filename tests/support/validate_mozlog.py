#!/usr/bin/env python3
"""Validate JSON lines on stdin against a JSON Schema (argv[1]).

Prints the number of valid records, or the first invalid line with the
validator's reason and exits 1.
"""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.validators.validator_for(schema)(schema)
count = 0
for number, line in enumerate(sys.stdin, 1):
    line = line.rstrip("\n")
    if not line:
        continue
    try:
        record = json.loads(line)
    except ValueError as e:
        print(f"line {number}: not JSON: {e}: {line[:200]}")
        sys.exit(1)
    errors = sorted(validator.iter_errors(record), key=str)
    if errors:
        print(f"line {number}: {errors[0].message}: {line[:200]}")
        sys.exit(1)
    count += 1
print(count)
