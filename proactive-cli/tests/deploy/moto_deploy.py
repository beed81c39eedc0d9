"""Transforms deploy/template.yaml with aws-sam-translator and deploys it into
moto's CloudFormation, then prints the stack's outputs as one JSON object.

Usage: python3 moto_deploy.py ENDPOINT TEMPLATE STACK < client-secret
The client secret (standard input) goes into the SSM SecureString the stack
names; it is never printed.
"""
import io
import json
import os
import sys
import zipfile

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    """The template gives each function its own role: no managed policy to look up."""

    def load(self):
        return {}


def main():
    endpoint, template_path, stack = sys.argv[1:4]
    # The translator fills in AWS::Region from the environment; nothing leaves loopback.
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    secret = sys.stdin.read().strip()
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    client = lambda name: session.client(name, endpoint_url=endpoint)

    with open(template_path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    # `sam package` puts the code in S3: do the same with a stand-in zip.
    s3 = client("s3")
    s3.create_bucket(Bucket="proactive-artifacts")
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            key = f"{name}.zip"
            s3.put_object(Bucket="proactive-artifacts", Key=key, Body=code.getvalue())
            resource["Properties"]["CodeUri"] = f"s3://proactive-artifacts/{key}"
    parameters = {
        "SkillId": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
        "ClientId": "amzn1.application-oa2-client.sandbox",
        "ClientSecretParameter": "proactive/client-secret",
        "MaxConcurrency": "5",
    }
    translated = transform(template, parameters, NoManagedPolicies())

    client("ssm").put_parameter(Name="/proactive/client-secret", Type="SecureString", Value=secret)
    cloudformation = client("cloudformation")
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(translated),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    description = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    if description["StackStatus"] != "CREATE_COMPLETE":
        sys.exit(f"the stack is {description['StackStatus']}: {description.get('StackStatusReason')}")
    resources = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    outputs["_resources"] = sorted(f"{r['LogicalResourceId']} {r['ResourceType']}" for r in resources)
    print(json.dumps(outputs))


if __name__ == "__main__":
    main()
