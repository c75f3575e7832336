//! `requests.codes.<name>` → `httpx.codes.<MEMBER>` (reference §6): the same integer, under
//! httpx's upper-case member name, or the integer itself where httpx has no member with that
//! value (`request_uri_too_long` is 122 in requests, not 414).

/// Every identifier-valid lower-case name of `requests.codes` (requests also accepts each in
/// upper case), its value (the later definition wins, as in requests), and the httpx member
/// with that value. Generated from requests 2.x `status_codes._codes` and `httpx.codes`.
const CODES: &[(&str, u16, Option<&str>)] = &[
    ("accepted", 202, Some("ACCEPTED")),
    ("all_good", 200, Some("OK")),
    ("all_ok", 200, Some("OK")),
    ("all_okay", 200, Some("OK")),
    ("already_reported", 208, Some("ALREADY_REPORTED")),
    ("bad", 400, Some("BAD_REQUEST")),
    ("bad_gateway", 502, Some("BAD_GATEWAY")),
    ("bad_request", 400, Some("BAD_REQUEST")),
    ("bandwidth", 509, None),
    ("bandwidth_limit_exceeded", 509, None),
    ("blocked_by_windows_parental_controls", 450, None),
    ("checkpoint", 103, Some("EARLY_HINTS")),
    ("client_closed_request", 499, None),
    ("conflict", 409, Some("CONFLICT")),
    ("content_too_large", 413, Some("REQUEST_ENTITY_TOO_LARGE")),
    ("continue", 100, Some("CONTINUE")),
    ("created", 201, Some("CREATED")),
    ("dependency", 424, Some("FAILED_DEPENDENCY")),
    ("expectation_failed", 417, Some("EXPECTATION_FAILED")),
    ("failed_dependency", 424, Some("FAILED_DEPENDENCY")),
    (
        "fields_too_large",
        431,
        Some("REQUEST_HEADER_FIELDS_TOO_LARGE"),
    ),
    ("forbidden", 403, Some("FORBIDDEN")),
    ("found", 302, Some("FOUND")),
    ("gateway_timeout", 504, Some("GATEWAY_TIMEOUT")),
    ("gone", 410, Some("GONE")),
    (
        "header_fields_too_large",
        431,
        Some("REQUEST_HEADER_FIELDS_TOO_LARGE"),
    ),
    ("http_version", 505, Some("HTTP_VERSION_NOT_SUPPORTED")),
    (
        "http_version_not_supported",
        505,
        Some("HTTP_VERSION_NOT_SUPPORTED"),
    ),
    ("i_am_a_teapot", 418, Some("IM_A_TEAPOT")),
    ("im_a_teapot", 418, Some("IM_A_TEAPOT")),
    ("im_used", 226, Some("IM_USED")),
    ("insufficient_storage", 507, Some("INSUFFICIENT_STORAGE")),
    ("internal_server_error", 500, Some("INTERNAL_SERVER_ERROR")),
    ("legal_reasons", 451, Some("UNAVAILABLE_FOR_LEGAL_REASONS")),
    ("length_required", 411, Some("LENGTH_REQUIRED")),
    ("locked", 423, Some("LOCKED")),
    ("media_type", 415, Some("UNSUPPORTED_MEDIA_TYPE")),
    ("method_not_allowed", 405, Some("METHOD_NOT_ALLOWED")),
    ("misdirected_request", 421, Some("MISDIRECTED_REQUEST")),
    ("moved", 301, Some("MOVED_PERMANENTLY")),
    ("moved_permanently", 301, Some("MOVED_PERMANENTLY")),
    ("multi_stati", 207, Some("MULTI_STATUS")),
    ("multi_status", 207, Some("MULTI_STATUS")),
    ("multiple_choices", 300, Some("MULTIPLE_CHOICES")),
    ("multiple_stati", 207, Some("MULTI_STATUS")),
    ("multiple_status", 207, Some("MULTI_STATUS")),
    ("network_auth", 511, Some("NETWORK_AUTHENTICATION_REQUIRED")),
    (
        "network_authentication",
        511,
        Some("NETWORK_AUTHENTICATION_REQUIRED"),
    ),
    (
        "network_authentication_required",
        511,
        Some("NETWORK_AUTHENTICATION_REQUIRED"),
    ),
    ("no_content", 204, Some("NO_CONTENT")),
    ("no_response", 444, None),
    (
        "non_authoritative_info",
        203,
        Some("NON_AUTHORITATIVE_INFORMATION"),
    ),
    (
        "non_authoritative_information",
        203,
        Some("NON_AUTHORITATIVE_INFORMATION"),
    ),
    ("none", 444, None),
    ("not_acceptable", 406, Some("NOT_ACCEPTABLE")),
    ("not_allowed", 405, Some("METHOD_NOT_ALLOWED")),
    ("not_extended", 510, Some("NOT_EXTENDED")),
    ("not_found", 404, Some("NOT_FOUND")),
    ("not_implemented", 501, Some("NOT_IMPLEMENTED")),
    ("not_modified", 304, Some("NOT_MODIFIED")),
    ("ok", 200, Some("OK")),
    ("okay", 200, Some("OK")),
    ("other", 303, Some("SEE_OTHER")),
    ("parental_controls", 450, None),
    ("partial", 206, Some("PARTIAL_CONTENT")),
    ("partial_content", 206, Some("PARTIAL_CONTENT")),
    ("payment", 402, Some("PAYMENT_REQUIRED")),
    ("payment_required", 402, Some("PAYMENT_REQUIRED")),
    ("permanent_redirect", 308, Some("PERMANENT_REDIRECT")),
    ("precondition", 428, Some("PRECONDITION_REQUIRED")),
    ("precondition_failed", 412, Some("PRECONDITION_FAILED")),
    ("precondition_required", 428, Some("PRECONDITION_REQUIRED")),
    ("processing", 102, Some("PROCESSING")),
    ("proxy_auth", 407, Some("PROXY_AUTHENTICATION_REQUIRED")),
    (
        "proxy_authentication",
        407,
        Some("PROXY_AUTHENTICATION_REQUIRED"),
    ),
    (
        "proxy_authentication_required",
        407,
        Some("PROXY_AUTHENTICATION_REQUIRED"),
    ),
    (
        "range_not_satisfiable",
        416,
        Some("REQUESTED_RANGE_NOT_SATISFIABLE"),
    ),
    (
        "request_entity_too_large",
        413,
        Some("REQUEST_ENTITY_TOO_LARGE"),
    ),
    ("request_timeout", 408, Some("REQUEST_TIMEOUT")),
    ("request_uri_too_large", 414, Some("REQUEST_URI_TOO_LONG")),
    ("request_uri_too_long", 122, None),
    (
        "requested_range",
        416,
        Some("REQUESTED_RANGE_NOT_SATISFIABLE"),
    ),
    (
        "requested_range_not_satisfiable",
        416,
        Some("REQUESTED_RANGE_NOT_SATISFIABLE"),
    ),
    ("reset", 205, Some("RESET_CONTENT")),
    ("reset_content", 205, Some("RESET_CONTENT")),
    ("resume", 308, Some("PERMANENT_REDIRECT")),
    ("resume_incomplete", 308, Some("PERMANENT_REDIRECT")),
    ("retry", 449, None),
    ("retry_with", 449, None),
    ("see_other", 303, Some("SEE_OTHER")),
    ("server_error", 500, Some("INTERNAL_SERVER_ERROR")),
    ("service_unavailable", 503, Some("SERVICE_UNAVAILABLE")),
    ("switch_proxy", 306, None),
    ("switching_protocols", 101, Some("SWITCHING_PROTOCOLS")),
    ("teapot", 418, Some("IM_A_TEAPOT")),
    ("temporary", 307, Some("TEMPORARY_REDIRECT")),
    ("temporary_moved", 307, Some("TEMPORARY_REDIRECT")),
    ("temporary_redirect", 307, Some("TEMPORARY_REDIRECT")),
    ("timeout", 408, Some("REQUEST_TIMEOUT")),
    ("too_early", 425, Some("TOO_EARLY")),
    ("too_many", 429, Some("TOO_MANY_REQUESTS")),
    ("too_many_requests", 429, Some("TOO_MANY_REQUESTS")),
    ("unauthorized", 401, Some("UNAUTHORIZED")),
    ("unavailable", 503, Some("SERVICE_UNAVAILABLE")),
    (
        "unavailable_for_legal_reasons",
        451,
        Some("UNAVAILABLE_FOR_LEGAL_REASONS"),
    ),
    ("unordered", 425, Some("TOO_EARLY")),
    ("unordered_collection", 425, Some("TOO_EARLY")),
    ("unprocessable", 422, Some("UNPROCESSABLE_ENTITY")),
    ("unprocessable_content", 422, Some("UNPROCESSABLE_ENTITY")),
    ("unprocessable_entity", 422, Some("UNPROCESSABLE_ENTITY")),
    ("unsupported_media", 415, Some("UNSUPPORTED_MEDIA_TYPE")),
    (
        "unsupported_media_type",
        415,
        Some("UNSUPPORTED_MEDIA_TYPE"),
    ),
    ("upgrade", 426, Some("UPGRADE_REQUIRED")),
    ("upgrade_required", 426, Some("UPGRADE_REQUIRED")),
    ("uri_too_long", 414, Some("REQUEST_URI_TOO_LONG")),
    ("use_proxy", 305, Some("USE_PROXY")),
    (
        "variant_also_negotiates",
        506,
        Some("VARIANT_ALSO_NEGOTIATES"),
    ),
];

/// What `requests.codes.<name>` becomes: `httpx.codes.OK`, or `122` where httpx has no
/// member with the value; `None` for a name requests does not define.
pub fn httpx_code(name: &str, client_module: &str) -> Option<String> {
    let lower = if name == name.to_ascii_uppercase() {
        name.to_ascii_lowercase()
    } else if name == name.to_ascii_lowercase() {
        name.to_owned()
    } else {
        return None;
    };
    let (_, value, member) = CODES.iter().find(|(n, _, _)| *n == lower)?;
    Some(match member {
        Some(member) => format!("{client_module}.codes.{member}"),
        None => value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::httpx_code;

    #[test]
    fn names_map_to_members_of_the_same_value() {
        assert_eq!(httpx_code("ok", "httpx").as_deref(), Some("httpx.codes.OK"));
        assert_eq!(httpx_code("OK", "httpx").as_deref(), Some("httpx.codes.OK"));
        assert_eq!(
            httpx_code("not_found", "httpx2").as_deref(),
            Some("httpx2.codes.NOT_FOUND")
        );
        // The value traps of reference §6.
        assert_eq!(
            httpx_code("request_uri_too_long", "httpx").as_deref(),
            Some("122")
        );
        assert_eq!(
            httpx_code("uri_too_long", "httpx").as_deref(),
            Some("httpx.codes.REQUEST_URI_TOO_LONG")
        );
        assert_eq!(
            httpx_code("precondition", "httpx").as_deref(),
            Some("httpx.codes.PRECONDITION_REQUIRED")
        );
        assert_eq!(httpx_code("retry_with", "httpx").as_deref(), Some("449"));
        assert_eq!(httpx_code("Ok", "httpx"), None);
        assert_eq!(httpx_code("missing", "httpx"), None);
    }
}
