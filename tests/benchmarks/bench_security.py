"""Security overhead benchmarks (issue 6, "Speed").

Run: ``.venv/bin/python -m tests.benchmarks.bench_security [--cards 1500] [--reads 5000]``.

Everything runs single-threaded, i.e. on one core:

* ID card (DGWS SAML) verification per second: parse, wrapping checks, signxml signature check
  against the pinned certificate, conditions, attribute mapping, replay cache — each card new;
  and signxml's own verification of the same cards alone (the ceiling for the hub's figure);
* JWT verification per second: RS256 with a new token each time, and a repeated token (the
  verified-token cache);
* security overhead of one FHIR read at p50/p90/p99: bearer authentication (repeated token) +
  purpose headers + ``decide`` + ``consent_outcome`` over a patient's directives + building the
  ``AuditRecord`` + its canonical bytes + the chain hash (everything but the SQL INSERT);
* a CPU calibration figure (a fixed pure-Python loop), so figures can be compared across machines.

Throughputs are the best of several rounds, so other load on the machine inflates them as little
as possible.  It prints a JSON report and a Markdown table; it never fails on time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
from signxml.verifier import SignatureConfiguration, XMLVerifier

from hub.core.settings import ReplayScope, SecurityMode, SecuritySettings, Settings
from security import (
    GENESIS_HASH,
    Action,
    AuditAction,
    AuditAgent,
    AuditEntity,
    AuditOutcome,
    AuditRecord,
    Authenticator,
    DevCredentialRequest,
    EntityKind,
    PurposeOfUse,
    Role,
    canonical_bytes,
    chain_hash,
    consent_outcome,
    decide,
    parse_consent,
)

ROUNDS = 3


def machine() -> str:
    freq = psutil.cpu_freq()
    mhz = f" @ {freq.max:.0f} MHz" if freq and freq.max else ""
    return (
        f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores{mhz}, "
        f"Python {platform.python_version()}"
    )


def calibration_seconds() -> float:
    """Seconds for 5 million additions in a Python loop (best of 3): a rough single-core speed figure."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        total = 0
        for i in range(5_000_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


def best_rate(make_inputs: Callable[[], list[Any]], run: Callable[[Any], object]) -> float:
    """Operations per second: the best of ROUNDS rounds over fresh inputs."""
    best = 0.0
    for _ in range(ROUNDS):
        inputs = make_inputs()
        start = time.perf_counter()
        for item in inputs:
            run(item)
        best = max(best, len(inputs) / (time.perf_counter() - start))
    return best


def soap_message(card: bytes) -> bytes:
    """A SOAP 1.2 envelope carrying ``card`` and a fresh wsa:MessageID."""
    return (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>'
        b'<wsa:MessageID xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:uuid:'
        + str(uuid.uuid4()).encode()
        + b"</wsa:MessageID><wsse:Security xmlns:wsse="
        b'"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        + card
        + b"</wsse:Security></s:Header><s:Body/></s:Envelope>"
    )


def consent(actor: dict[str, Any] | None) -> dict[str, Any]:
    provision: dict[str, Any] = {"type": "deny"}
    if actor:
        provision["actor"] = [{"role": {"text": "blocked"}, "reference": {"identifier": actor}}]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": "http://telehub.dk/fhir/CodeSystem/dk-consent-category",
                        "code": "negative-consent",
                    }
                ]
            }
        ],
        "patient": {"identifier": {"system": "urn:oid:1.2.208.176.1.2", "value": "0101011234"}},
        "provision": provision,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1500, help="ID cards per round")
    parser.add_argument("--tokens", type=int, default=1500, help="new JWTs per round")
    parser.add_argument(
        "--reads", type=int, default=5000, help="simulated FHIR reads for the overhead percentiles"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), security=SecuritySettings(mode=SecurityMode.DEV))
        auth = Authenticator(settings)
        issuer = auth.dev_issuer
        assert issuer is not None

        physician = DevCredentialRequest(role=Role.PHYSICIAN, purpose=PurposeOfUse.TREATMENT)
        saml_rate = best_rate(
            lambda: [issuer.issue_id_card(physician) for _ in range(args.cards)],
            auth.authenticate_id_card,
        )
        # the ceiling: signxml's own verification of the same cards, with no telehub code around it
        signxml_config = SignatureConfiguration(require_x509=True, location="./", expect_references=1)
        signxml_rate = best_rate(
            lambda: [issuer.issue_id_card(physician) for _ in range(args.cards)],
            lambda card: XMLVerifier().verify(
                card, x509_cert=issuer.certificate, id_attribute="id", expect_config=signxml_config
            ),
        )
        # DGWS use: one card, many SOAP messages (scope "message": each wsa:MessageID once, the card's
        # signature checked on first use and remembered by its exact bytes)
        reuse = Authenticator(
            Settings(
                data_dir=Path(folder),
                security=SecuritySettings(mode=SecurityMode.DEV, saml_replay_scope=ReplayScope.MESSAGE),
            )
        )
        reused_card = issuer.issue_id_card(physician)
        saml_reused_rate = best_rate(
            lambda: [soap_message(reused_card) for _ in range(args.cards)], reuse.authenticate_id_card
        )
        jwt_new_rate = best_rate(
            lambda: [
                {"Authorization": f"Bearer {issuer.issue_token(physician)}"} for _ in range(args.tokens)
            ],
            auth.authenticate_bearer,
        )
        repeated = {
            "Authorization": f"Bearer {issuer.issue_token(physician)}",
            "X-Purpose-Of-Use": "treatment",
        }
        jwt_cached_rate = best_rate(lambda: [repeated] * args.tokens, auth.authenticate_bearer)

        directives = [
            parse_consent(consent({"system": "https://autregweb.sst.dk", "value": "BCDFG"})),
            parse_consent(consent({"system": "urn:oid:1.2.208.176.1.1", "value": "999999"})),
            parse_consent(consent({"system": "https://autregweb.sst.dk", "value": "QWRTY"})),
        ]
        previous = GENESIS_HASH
        samples: list[float] = []
        for n in range(args.reads):
            start = time.perf_counter()
            principal = auth.authenticate_bearer(repeated)
            decision = decide(principal, Action.READ, "Observation", patient_cpr="0101011234").enforce()
            outcome = consent_outcome(directives, principal)
            record = AuditRecord.new(
                AuditAction.READ,
                AuditOutcome.SUCCESS,
                AuditAgent.from_principal(principal, network_address="10.0.0.7"),
                patient_cpr="0101011234",
                entities=(AuditEntity(EntityKind.RESOURCE, f"Observation/{n}/_history/1"),),
                purpose_of_use=principal.purpose_of_use,
                override=decision.override,
                decision_reason=decision.reason,
                outcome_description=outcome.value,
            )
            previous = chain_hash(previous, canonical_bytes(record))
            samples.append((time.perf_counter() - start) * 1e6)

    quantiles = statistics.quantiles(samples, n=100)
    overhead = {
        "p50": round(quantiles[49], 1),
        "p90": round(quantiles[89], 1),
        "p99": round(quantiles[98], 1),
    }
    report: dict[str, Any] = {
        "machine": machine(),
        "calibration_5M_loop_seconds": round(calibration_seconds(), 3),
        "saml_idcard_verify_per_second": round(saml_rate),
        "saml_idcard_verify_us": round(1e6 / saml_rate),
        "signxml_alone_verify_per_second": round(signxml_rate),
        "saml_idcard_reused_message_scope_per_second": round(saml_reused_rate),
        "jwt_verify_new_token_per_second": round(jwt_new_rate),
        "jwt_verify_repeated_token_per_second": round(jwt_cached_rate),
        "fhir_read_security_overhead_us": overhead,
    }
    print(json.dumps(report, indent=2))
    print()
    print("| measure | result |")
    print("| --- | --- |")
    loop = report["calibration_5M_loop_seconds"]
    print(f"| machine | {report['machine']} (5M-iteration Python loop: {loop} s) |")
    print(f"| ID card (SAML) verify, one core | {saml_rate:,.0f}/s ({1e6 / saml_rate:,.0f} µs each) |")
    print(
        f"| signxml alone on the same cards, one core | {signxml_rate:,.0f}/s "
        f"({1e6 / signxml_rate:,.0f} µs) |"
    )
    print(
        f"| ID card reused for many messages (scope message), one core | {saml_reused_rate:,.0f}/s "
        f"({1e6 / saml_reused_rate:,.0f} µs each) |"
    )
    print(f"| JWT verify, new token each time | {jwt_new_rate:,.0f}/s |")
    print(f"| JWT verify, repeated token (cache) | {jwt_cached_rate:,.0f}/s |")
    print(
        f"| auth + authorisation + consent + audit record per FHIR read | p50 {overhead['p50']} µs, "
        f"p90 {overhead['p90']} µs, p99 {overhead['p99']} µs |"
    )


if __name__ == "__main__":
    main()
