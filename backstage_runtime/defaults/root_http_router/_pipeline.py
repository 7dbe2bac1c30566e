"""The default order of the root pipeline, assembled in one place."""

from __future__ import annotations

from collections.abc import Mapping

from ...api import LoggerService
from ...api.services.http import RootHealthService
from ...api.services.telemetry import TelemetryService
from ...http_toolkit import (
    ASGIApp,
    ErrorResponder,
    Piece,
    RateLimiter,
    TrustProxy,
    TrustProxyMiddleware,
)
from ._compression import CompressionMiddleware
from ._cors import CorsPolicy
from ._cors_middleware import CorsMiddleware
from ._error_rendering import ErrorRendering
from ._etag import ETagMiddleware
from ._health import HealthEndpoints
from ._in_flight import InFlightMiddleware, InFlightRequests
from ._request_log import RequestLogMiddleware
from ._request_tracking import RequestTracking
from ._security_headers import SecurityHeadersMiddleware

__all__ = ["HTTP_INSTRUMENTATION_SCOPE", "default_pipeline"]

#: The meter and tracer of the HTTP server instruments.
HTTP_INSTRUMENTATION_SCOPE = "backstage-service-rootHttpRouter"


def default_pipeline(
    *,
    in_flight: InFlightRequests,
    errors: ErrorResponder,
    health: RootHealthService,
    health_headers: Mapping[str, str],
    security_headers: list[tuple[bytes, bytes]],
    cors: CorsPolicy | None,
    request_logger: LoggerService | None,
    trust_proxy: TrustProxy | None = None,
    rate_limiter: RateLimiter | None = None,
    telemetry: TelemetryService | None = None,
) -> list[Piece]:
    """The pieces before the mounts, outermost first: ``client_address`` (the client behind
    trusted proxies, ``backend.trustProxy``), ``request_tracking``, ``http_tracing``,
    ``http_metrics``, ``request_log``,
    ``in_flight``, ``compression``, ``security_headers``, ``cors``, ``etag``, ``errors``,
    ``rate_limit`` (the global ``backend.rateLimit``, in front of the health endpoints as in
    Backstage), ``health``.

    Response headers are added by ``send`` wrappers, which see a response in the reverse order
    of the pieces: helmet's and CORS's headers come first because their wrappers run after the
    handler's, and compression, outside them, sees every header (to merge ``Vary``). Errors are
    rendered inside all of them, so an error response is shaped like any other. ``request_log``
    is left out without a logger, ``cors`` without ``backend.cors``, ``client_address`` without
    ``backend.trustProxy``, ``rate_limit`` without a global limit, ``http_tracing`` and
    ``http_metrics`` while ``telemetry`` records no spans or metrics. The span is current for
    everything inside it, the request log line included (its trace id).
    """
    pieces: list[Piece] = []
    if trust_proxy is not None:
        trust = trust_proxy

        def client_address(app: ASGIApp) -> ASGIApp:
            return TrustProxyMiddleware(app, trust)

        pieces.append(Piece("client_address", client_address))
    pieces.append(Piece("request_tracking", RequestTracking))
    if telemetry is not None and telemetry.tracing_enabled:
        # OpenTelemetry's API loads only when something records.
        from ._http_tracing import HttpTracingMiddleware

        tracer = telemetry.tracer_provider.get_tracer(HTTP_INSTRUMENTATION_SCOPE)

        def http_tracing(app: ASGIApp) -> ASGIApp:
            return HttpTracingMiddleware(app, tracer)

        pieces.append(Piece("http_tracing", http_tracing))
    if telemetry is not None and telemetry.metrics_enabled:
        from ._http_metrics import HttpMetricsMiddleware

        meter_provider = telemetry.meter_provider
        meter = meter_provider.get_meter(HTTP_INSTRUMENTATION_SCOPE)

        def http_metrics(app: ASGIApp) -> ASGIApp:
            return HttpMetricsMiddleware(app, meter, meter_provider)

        pieces.append(Piece("http_metrics", http_metrics))
    if request_logger is not None:
        logger = request_logger

        def request_log(app: ASGIApp) -> ASGIApp:
            return RequestLogMiddleware(app, logger)

        pieces.append(Piece("request_log", request_log))

    def counted(app: ASGIApp) -> ASGIApp:
        return InFlightMiddleware(app, in_flight, errors)

    def helmet(app: ASGIApp) -> ASGIApp:
        return SecurityHeadersMiddleware(app, security_headers)

    pieces += [
        Piece("in_flight", counted),
        Piece("compression", CompressionMiddleware),
        Piece("security_headers", helmet),
    ]
    if cors is not None:
        policy = cors

        def cors_piece(app: ASGIApp) -> ASGIApp:
            return CorsMiddleware(app, policy)

        pieces.append(Piece("cors", cors_piece))

    def error_rendering(app: ASGIApp) -> ASGIApp:
        return ErrorRendering(app, errors)

    def health_endpoints(app: ASGIApp) -> ASGIApp:
        return HealthEndpoints(app, health, health_headers)

    pieces += [Piece("etag", ETagMiddleware), Piece("errors", error_rendering)]
    if rate_limiter is not None:
        pieces.append(Piece("rate_limit", rate_limiter.wrap))
    pieces.append(Piece("health", health_endpoints))
    return pieces
