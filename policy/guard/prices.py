"""AWS list prices the stack's cost depends on: one table, used by the pack's budget policy and by the plan.

On-demand, Linux, USD. Provenance, figure by figure, is in `SOURCES`: some were checked against stored copies of AWS's
pricing pages (or widely quoted summaries of them) while writing this; the rest are AWS list prices as the authors
knew them and were not re-read from AWS, since this project is built offline. Before budgeting real money, check
them with the AWS Pricing Calculator or the Price List API, and update the table, `SOURCES` and `AS_OF` together.
A region missing here is priced as us-east-1, and the estimate says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AS_OF = "2026-11"  # when this table was last reviewed, not when AWS last changed a price
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class RegionPrices:
    interface_endpoint_hour: float  # per endpoint per AZ
    interface_endpoint_gb: float  # data processed, first PB tier
    fargate_vcpu_hour: float  # Linux/ARM (Graviton)
    fargate_gb_hour: float  # Linux/ARM (Graviton)
    fargate_x86_vcpu_hour: float
    fargate_x86_gb_hour: float
    ec2_hour: dict[str, float] = field(default_factory=dict)
    gp3_gb_month: float = 0.0
    efs_standard_gb_month: float = 0.0
    efs_ia_gb_month: float = 0.0
    kms_key_month: float = 1.0
    logs_ingest_gb: float = 0.0
    nat_gateway_hour: float = 0.0
    nat_gateway_gb: float = 0.0
    public_ipv4_hour: float = 0.005  # every public IPv4 address, a NAT gateway's Elastic IP included
    vended_logs_s3_gb: float = 0.25  # CloudWatch "vended logs" delivered to S3 (VPC flow logs), first 10 TB
    s3_standard_gb_month: float = 0.023
    aurora_acu_hour: float = 0.12  # Aurora Serverless v2, standard storage configuration
    aurora_storage_gb_month: float = 0.10
    secret_month: float = 0.40  # Secrets Manager, per secret (an RDS-managed master secret bills the same)


PRICES: dict[str, RegionPrices] = {
    "ap-northeast-1": RegionPrices(
        interface_endpoint_hour=0.014, interface_endpoint_gb=0.01,
        fargate_vcpu_hour=0.04045, fargate_gb_hour=0.00442,
        fargate_x86_vcpu_hour=0.05056, fargate_x86_gb_hour=0.00553,
        ec2_hour={"t4g.nano": 0.0054, "t4g.micro": 0.0108, "t4g.small": 0.0216,
                  "t3.nano": 0.0068, "t3.micro": 0.0136, "t3.small": 0.0272},
        gp3_gb_month=0.096, efs_standard_gb_month=0.36, efs_ia_gb_month=0.0272, kms_key_month=1.0,
        logs_ingest_gb=0.76, nat_gateway_hour=0.062, nat_gateway_gb=0.062,
        vended_logs_s3_gb=0.25, s3_standard_gb_month=0.025,
        aurora_acu_hour=0.15, aurora_storage_gb_month=0.12, secret_month=0.40,
    ),
    "us-east-1": RegionPrices(
        interface_endpoint_hour=0.01, interface_endpoint_gb=0.01,
        fargate_vcpu_hour=0.03238, fargate_gb_hour=0.00356,
        fargate_x86_vcpu_hour=0.04048, fargate_x86_gb_hour=0.004445,
        ec2_hour={"t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168,
                  "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208},
        gp3_gb_month=0.08, efs_standard_gb_month=0.30, efs_ia_gb_month=0.016, kms_key_month=1.0,
        logs_ingest_gb=0.50, nat_gateway_hour=0.045, nat_gateway_gb=0.045,
        vended_logs_s3_gb=0.25, s3_standard_gb_month=0.023,
        aurora_acu_hour=0.12, aurora_storage_gb_month=0.10, secret_month=0.40,
    ),
}
FALLBACK_REGION = "us-east-1"

SOURCES = {
    "interface_endpoint_hour": "ap-northeast-1 $0.014: AWS PrivateLink pricing page "
                               "(aws.amazon.com/privatelink/pricing) as the project's design review read it, not "
                               "re-read here; us-east-1 $0.01: widely quoted AWS list price, checked in stored "
                               "copies; billed per endpoint per AZ-hour",
    "interface_endpoint_gb": "$0.01/GB for the first PB per region: aws.amazon.com/privatelink/pricing (stored copy)",
    "fargate (us-east-1)": "Linux/x86 $0.04048 vCPU-h, $0.004445 GB-h; Linux/ARM $0.03238, $0.00356: widely quoted "
                           "AWS list prices, checked in stored copies",
    "fargate (ap-northeast-1)": "not verified here (the stored AWS page was an outdated list): authors' knowledge",
    "ec2, gp3, efs, kms, logs, nat": "authors' knowledge of AWS list prices, not verified here",
    "vended logs to S3, s3 storage": "authors' knowledge of AWS list prices (CloudWatch pricing, Logs, Vended Logs; "
                                     "S3 pricing), not verified here; AWS bills flow logs to S3 as vended logs "
                                     "(Amazon VPC User Guide, \"Publish flow logs to Amazon S3\")",
    "aurora (ap-northeast-1)": "$0.15/ACU-hour: a third-party summary of AWS's price list (kenzo0107.github.io, "
                               "2025-12), not AWS's own page, which renders its figures in the browser; storage "
                               "$0.12/GB-month: authors' knowledge. Check with `aws pricing get-products "
                               "--service-code AmazonRDS --region us-east-1` before budgeting",
    "aurora (us-east-1)": "$0.12/ACU-hour: AWS's published constant (aws agent toolkit); storage $0.10: authors' "
                          "knowledge",
    "secret_month": "$0.40 per secret per month: aws.amazon.com/secrets-manager/pricing (stored transcription); "
                    "an RDS-managed master secret is billed as any other (Aurora User Guide, \"Password management "
                    "with Amazon Aurora and AWS Secrets Manager\")",
    "yen check": "about 1,500 yen per endpoint per month, as users in Japan report: consistent with $0.014 x 730 h "
                 "= $10.22 at ~147 yen/$",
}


def prices_for(region: str | None) -> tuple[RegionPrices, str]:
    """(prices, the region they are for): a region not in the table is priced as us-east-1."""
    if region in PRICES:
        return PRICES[region], region
    return PRICES[FALLBACK_REGION], FALLBACK_REGION


def interface_endpoints_month(endpoint_azs: int, region: str | None) -> float:
    """Monthly hourly charge of `endpoint_azs` endpoint network interfaces (an endpoint in 2 AZs counts 2)."""
    prices, _ = prices_for(region)
    return endpoint_azs * prices.interface_endpoint_hour * HOURS_PER_MONTH
