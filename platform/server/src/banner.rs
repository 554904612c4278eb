//! What `weft serve` prints on a terminal once it listens: where to go, where the data
//! lives, how to make an admin. Logs say what happened; this says what to do next.

use std::fmt::Write as _;
use std::net::IpAddr;

use weft_config::Settings;

/// Renders the banner for a process of these settings listening on `port`; `program` is
/// how the user started `weft` (its `argv[0]`), so the admin command can be pasted.
pub fn render(settings: &Settings, port: u16, program: &str) -> String {
    // A wildcard address is not one a browser can open; the machine's loopback is.
    let host = match settings.host {
        IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_owned(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let base = format!("http://{host}:{port}");
    let what = match settings.service.as_deref() {
        None => "every service".to_owned(),
        Some(name) => format!("the {name} service"),
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nWeft {} is serving {what} at {base}\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut line = |label: &str, value: String| {
        let _ = writeln!(out, "  {label:<10} {value}");
    };
    line("REST", format!("{base}/v1/products"));
    line("API docs", format!("{base}/docs"));
    line(
        "GraphQL",
        format!("{base}/graphql (playground in a browser)"),
    );
    line("Health", format!("{base}/health/ready"));
    line("Data", data(settings));
    if settings.demo && settings.service.as_deref().is_none_or(|s| s == "catalog") {
        line(
            "Demo",
            "seeding in the background; \"demo catalog ready\" follows".to_owned(),
        );
    }
    let data_dir =
        if settings.database_url.is_none() && settings.data_dir != Settings::default().data_dir {
            format!(" --data-dir {}", settings.data_dir.display())
        } else {
            String::new()
        };
    line(
        "Admin",
        format!("WEFT_ADMIN_PASSWORD=… {program} admin create --email you@example.com{data_dir}"),
    );
    line("Stop", "Ctrl-C".to_owned());
    out
}

/// Where the relational data, the search index and the keys live; never a URL's
/// credentials.
fn data(settings: &Settings) -> String {
    let absolute = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    let dir = absolute(&settings.data_dir);
    let database = match &settings.database_url {
        Some(url) => format!("PostgreSQL at {}", without_credentials(url)),
        None => format!("SQLite {}", absolute(&settings.sqlite_path()).display()),
    };
    let search = if settings.elasticsearch_url.is_some() {
        "Elasticsearch".to_owned()
    } else {
        format!("search index {}", dir.join("search").display())
    };
    format!("{database}; {search}")
}

/// `postgres://user:secret@db:5432/weft` → `db:5432/weft`.
fn without_credentials(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.rsplit_once('@').map_or(rest, |(_, host)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_names_the_urls_the_data_and_the_admin_command() {
        let settings = Settings {
            demo: true,
            ..Settings::default()
        };
        let text = render(&settings, 8123, "weft");
        for wanted in [
            "http://127.0.0.1:8123/docs",
            "http://127.0.0.1:8123/graphql",
            "http://127.0.0.1:8123/health/ready",
            "weft.db",
            "demo catalog ready",
            "weft admin create --email",
        ] {
            assert!(text.contains(wanted), "{wanted} missing from:\n{text}");
        }
    }

    #[test]
    fn the_banner_never_prints_database_credentials() {
        let settings = Settings {
            database_url: Some("postgres://weft:s3cret@db.internal:5432/shop".to_owned()),
            host: "0.0.0.0".parse().unwrap(),
            ..Settings::default()
        };
        let text = render(&settings, 8000, "weft");
        assert!(!text.contains("s3cret"), "{text}");
        assert!(
            text.contains("PostgreSQL at db.internal:5432/shop"),
            "{text}"
        );
        assert!(text.contains("http://127.0.0.1:8000/docs"), "{text}");
    }
}
