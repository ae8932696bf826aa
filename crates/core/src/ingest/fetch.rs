//! `http(s)://` sources, fetched with the HTTP client already in the tree
//! (reqwest, blocking, rustls). Proxies come from the usual variables
//! (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), as reqwest reads
//! them; the whole download is bounded by `add.fetch_timeout_seconds` and
//! `add.max_bytes`.

#[cfg(feature = "net")]
use std::io::Read;
#[cfg(feature = "net")]
use std::time::Duration;

use super::Limits;

/// Without the `net` feature there is no HTTP client to fetch with.
#[cfg(not(feature = "net"))]
pub(crate) fn get(_url: &str, _limits: &Limits) -> Result<Page, String> {
    Err(
        "fetching failed: this build has no HTTP client (citebot-core without the `net` feature)"
            .into(),
    )
}

/// A downloaded source.
pub(crate) struct Page {
    /// A file name whose extension says what kind the source is.
    pub name: String,
    /// The address it was served from, after redirects.
    pub url: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

#[cfg(feature = "net")]
/// Downloads `url`; the error says what failed (offline, refused, HTTP status, too big).
pub(crate) fn get(url: &str, limits: &Limits) -> Result<Page, String> {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(limits.fetch_timeout_seconds))
        .connect_timeout(Duration::from_secs(limits.fetch_timeout_seconds.min(10)))
        .user_agent(concat!("citebot/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
    let response = client.get(url).send().map_err(|e| failed(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("fetching failed: HTTP {status}"));
    }
    let final_url = response.url().to_string();
    let kind = kind_of(
        response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
        response.url().path(),
    );
    if response
        .content_length()
        .is_some_and(|n| n > limits.max_bytes)
    {
        return Err(format!(
            "refused: the server says {} bytes, more than add.max_bytes = {}",
            response.content_length().unwrap_or(0),
            limits.max_bytes
        ));
    }
    let mut bytes = Vec::new();
    response
        .take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("fetching failed while reading: {e}"))?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(format!(
            "refused: more than add.max_bytes = {} bytes",
            limits.max_bytes
        ));
    }
    Ok(Page {
        name: format!("download.{kind}"),
        url: final_url,
        bytes,
    })
}

#[cfg(feature = "net")]
/// An error with its causes, which say what went wrong (DNS, connection refused, timeout).
fn failed(error: &reqwest::Error) -> String {
    let mut message = if error.is_timeout() {
        "fetching failed: timed out".to_string()
    } else if error.is_connect() {
        "fetching failed: cannot connect (offline, or the server is down)".to_string()
    } else {
        "fetching failed".to_string()
    };
    let mut cause: Option<&dyn std::error::Error> = Some(error);
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    message
}

#[cfg(feature = "net")]
/// The extension for a response of `content_type` served at `path`.
fn kind_of(content_type: &str, path: &str) -> String {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "text/html" | "application/xhtml+xml" => "html".into(),
        "text/plain" => "txt".into(),
        "text/markdown" => "md".into(),
        "application/pdf" => "pdf".into(),
        "application/epub+zip" => "epub".into(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx".into(),
        _ => super::extension(path).unwrap_or_else(|| "html".into()),
    }
}
