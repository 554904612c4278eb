//! The `weft` command line, run as a process.

use std::process::Command;

fn weft() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.env_remove("WEFT_DATABASE_URL").env_remove("WEFT_PORT");
    cmd
}

/// (case, args, environment, the setting the message must name)
type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn invalid_configuration_exits_2_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [Case; 4] = [
        (
            "bad env value",
            vec![],
            vec![("WEFT_PORT", "eighty")],
            "WEFT_PORT",
        ),
        (
            "unknown service",
            vec!["--service", "warehouse"],
            vec![],
            "service",
        ),
        (
            "bad database url",
            vec![],
            vec![("WEFT_DATABASE_URL", "mysql://db")],
            "database_url",
        ),
        (
            "missing config file",
            vec!["--config", "/nonexistent/weft.toml"],
            vec![],
            "config",
        ),
    ];
    for (case, args, envs, setting) in cases {
        let out = weft()
            .current_dir(dir.path())
            .arg("serve")
            .args(&args)
            .envs(envs)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{case}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{case}: one line: {stderr}"
        );
        assert!(
            stderr.contains(setting),
            "{case}: names {setting}: {stderr}"
        );
    }
}

#[test]
fn a_typo_in_the_config_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("weft.toml"), "prot = 8000\n").unwrap();
    let out = weft()
        .current_dir(dir.path())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("prot"));
}

#[test]
fn openapi_and_graphql_schema_print_the_contracts() {
    let out = weft().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(spec["paths"]["/v1/meta"]["get"].is_object());
    assert!(spec["paths"]["/v1/internal/holds"].is_null());
    let out = weft().args(["openapi", "--internal"]).output().unwrap();
    assert!(out.status.success());
    let internal: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(internal["paths"]["/v1/internal/holds"]["post"].is_object());
    assert!(internal["paths"]["/v1/meta"].is_null());
    let out = weft().arg("graphql-schema").output().unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("type Query")
    );
}

#[test]
fn migrate_applies_once_then_finds_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let out = weft()
            .arg("migrate")
            .arg("--data-dir")
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(
        first.starts_with("applied ") && !first.starts_with("applied 0 "),
        "{first}"
    );
    assert!(
        first.trim_end().ends_with("migration(s) on sqlite"),
        "{first}"
    );
    assert_eq!(run().trim_end(), "applied 0 migration(s) on sqlite");
}
