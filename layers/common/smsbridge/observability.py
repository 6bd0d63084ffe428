"""The one Logger and Metrics of SMS Bridge (Powertools, configured by the template's Globals).

No Powertools Tracer: it needs aws-xray-sdk, which costs about 0.3 s of cold start; the
functions' `Tracing: Active` still gives each invocation its X-Ray segment."""
from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="smsbridge")
metrics = Metrics(namespace="SmsBridge", service="smsbridge")
