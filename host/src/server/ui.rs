//! The admin web UI under `/admin`: static pages embedded in the binary that
//! call the admin JSON API, and the session login that lets them.
//!
//! Key design decision: the browser never holds the admin token. `POST
//! /admin/login` exchanges it for a random session id in an `HttpOnly`,
//! `SameSite=Strict` cookie, mapped in memory to a session with its own
//! random CSRF value (so a restart logs everyone out). The admin API accepts
//! that cookie beside the bearer token; a cookie-authenticated request that
//! changes something must also carry the CSRF value in `X-Herald-CSRF`,
//! which the page gets in a `<meta>` tag, and must not come from another
//! origin. The pages build their DOM with `textContent` only, and a strict
//! Content-Security-Policy forbids inline scripts besides.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use rand::RngCore;
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "herald_session";
/// Header carrying the session's CSRF value on changing requests.
pub const CSRF_HEADER: &str = "x-herald-csrf";
/// How long a session lasts after login.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept at once (the oldest is dropped beyond).
const MAX_SESSIONS: usize = 256;
/// Pause after a wrong token, to slow down guessing.
const LOGIN_FAILURE_DELAY: Duration = Duration::from_millis(300);

const INDEX_HTML: &str = include_str!("../../assets/admin/index.html");
const LOGIN_HTML: &str = include_str!("../../assets/admin/login.html");
const APP_JS: &str = include_str!("../../assets/admin/app.js");
const APP_CSS: &str = include_str!("../../assets/admin/app.css");
const FAVICON_SVG: &str = include_str!("../../assets/admin/favicon.svg");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

struct Session {
    csrf: String,
    expires: Instant,
}

/// Logged-in UI sessions, by id.
#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl Sessions {
    /// Starts a session; returns its id and CSRF value.
    fn create(&self) -> (String, String) {
        let id = random_hex();
        let csrf = random_hex();
        let now = Instant::now();
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.retain(|_, s| s.expires > now);
            if sessions.len() >= MAX_SESSIONS {
                let oldest = sessions
                    .iter()
                    .min_by_key(|(_, s)| s.expires)
                    .map(|(id, _)| id.clone());
                if let Some(oldest) = oldest {
                    sessions.remove(&oldest);
                }
            }
            sessions.insert(
                id.clone(),
                Session {
                    csrf: csrf.clone(),
                    expires: now + SESSION_TTL,
                },
            );
        }
        (id, csrf)
    }

    /// The CSRF value of a live session.
    fn csrf(&self, id: &str) -> Option<String> {
        let sessions = self.sessions.lock().ok()?;
        sessions
            .get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    fn remove(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }
}

/// The session id of the request's cookie, if any.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// Whether an `Origin` header, when present, names this very server.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| url::Url::parse(o).ok())
        .map(|u| match u.port() {
            Some(port) => format!("{}:{port}", u.host_str().unwrap_or("")),
            None => u.host_str().unwrap_or("").to_owned(),
        });
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(&o))
}

/// Authenticates an admin API request by its session cookie: 401 without a
/// live session; 403 for a changing request from another origin or without
/// the session's CSRF value.
pub(super) fn check_session(
    state: &AppState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<(), ApiError> {
    let csrf = session_id(headers)
        .and_then(|id| state.sessions.csrf(&id))
        .ok_or_else(ApiError::unauthorized)?;
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !same_origin(headers) || !equal(presented, &csrf) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "a request authenticated by the session cookie needs the page's `X-Herald-CSRF` header",
        ));
    }
    Ok(())
}

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(app_page))
        .route("/admin/", get(app_page))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", axum::routing::post(logout))
        .route("/admin/assets/{file}", get(asset))
}

/// Headers of every page: no caching, no framing, no inline script.
fn page(status: StatusCode, html: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        html,
    )
        .into_response()
}

async fn app_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match session_id(&headers).and_then(|id| state.sessions.csrf(&id)) {
        // The CSRF value is hex: safe inside an attribute.
        Some(csrf) => page(StatusCode::OK, INDEX_HTML.replace("{{csrf}}", &csrf)),
        None => Redirect::to("/admin/login").into_response(),
    }
}

fn login_html(error: Option<&'static str>) -> String {
    let message = error.unwrap_or("");
    LOGIN_HTML.replace("{{error}}", message)
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if session_id(&headers)
        .and_then(|id| state.sessions.csrf(&id))
        .is_some()
    {
        return Redirect::to("/admin").into_response();
    }
    page(StatusCode::OK, login_html(None))
}

fn cookie(value: &str, max_age: u64, headers: &HeaderMap) -> HeaderValue {
    // `Secure` only when the browser reached us over https (a TLS-ending
    // proxy); a plain-http localhost would otherwise drop the cookie.
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn login(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !same_origin(&headers) {
        return page(
            StatusCode::FORBIDDEN,
            login_html(Some("This login form was sent from another site.")),
        );
    }
    let token = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();
    if token.is_empty() || state.admin_token.is_empty() || !equal(&token, &state.admin_token) {
        tracing::warn!("admin UI login refused: wrong token");
        tokio::time::sleep(LOGIN_FAILURE_DELAY).await;
        return page(
            StatusCode::UNAUTHORIZED,
            login_html(Some("That is not the admin token.")),
        );
    }
    let (id, _csrf) = state.sessions.create();
    tracing::info!("admin UI login");
    let mut response = Redirect::to("/admin").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(
        header::SET_COOKIE,
        cookie(&id, SESSION_TTL.as_secs(), &headers),
    );
    response
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(e) = check_session(&state, &headers, &Method::POST) {
        return e.into_response();
    }
    if let Some(id) = session_id(&headers) {
        state.sessions.remove(&id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cookie("", 0, &headers));
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    let (content_type, body) = match file.as_str() {
        "app.js" => ("text/javascript; charset=utf-8", APP_JS),
        "app.css" => ("text/css; charset=utf-8", APP_CSS),
        "favicon.svg" => ("image/svg+xml", FAVICON_SVG),
        _ => return ApiError::not_found(format!("asset `{file}`")).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; herald_session=abc ; b=2"),
        );
        assert_eq!(session_id(&headers).as_deref(), Some("abc"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("herald_sessionx=1"),
        );
        assert_eq!(session_id(&headers), None);
    }

    #[test]
    fn origin_must_match_host_when_present() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8787"));
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8787"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers));
    }

    #[test]
    fn sessions_expire_and_are_removed() {
        let sessions = Sessions::default();
        let (id, csrf) = sessions.create();
        assert_eq!(sessions.csrf(&id), Some(csrf));
        assert_eq!(sessions.csrf("other"), None);
        sessions.remove(&id);
        assert_eq!(sessions.csrf(&id), None);
    }
}
