#!/usr/bin/env python3
"""Seeds N subscribers of AMAZON.OrderStatus.Updated into a new DynamoDB table on
a local DynamoDB (bench's DynamoDB stand-in, or moto's server), in DynamoDbStore's
layout, with batch writes: for `queue-bench.sh`'s `queue fanout` step. About 20 s
for 100,000 subscribers into the stand-in. Usage: seed-dynamodb.py ENDPOINT TABLE N"""
import sys
import time

import boto3

endpoint, table, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")
dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                            {"AttributeName": "sk", "AttributeType": "S"}])
event = "AMAZON.OrderStatus.Updated"
hosts = ["https://api.amazonalexa.com", "https://api.eu.amazonalexa.com", "https://api.fe.amazonalexa.com"]
started = time.time()
items = []
for i in range(n):
    user = f"amzn1.ask.account.BENCH{i:07d}" + "X" * 170
    host = hosts[i % 3]
    items.append({"pk": {"S": f"user#{user}"}, "sk": {"S": "state"}, "v": {"S": "1"},
                  "events": {"L": [{"S": event}]}, "timestamp": {"S": "2026-12-05T00:00:00.000000000Z"},
                  "request_id": {"S": f"r{i}"}, "api_endpoint": {"S": host}})
    items.append({"pk": {"S": f"event#{event}"}, "sk": {"S": user}, "api_endpoint": {"S": host}})
for start in range(0, len(items), 25):
    batch = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
    dynamodb.batch_write_item(RequestItems={table: batch})
print(f"seeded {n} subscribers into {table} in {time.time() - started:.1f} s", file=sys.stderr)
