//! Credentials from the command line: the well-known defaults refused off loopback, keys rotated
//! and passwords set without the API.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{data_dir, juror, text, KEY};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn set_password(data: &std::path::Path, username: &str, password: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_juror"))
        .args(["user", "set-password", "--username", username, "--data-dir"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn status_with_key(url: &str, key: &str) -> u16 {
    match reqwest::blocking::Client::new().get(format!("{url}/api/v1/me")).header("X-Argilla-Api-Key", key).send() {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

#[test]
fn a_server_reachable_from_elsewhere_refuses_the_well_known_credentials_until_they_change() {
    let data = data_dir();
    let port = free_port().to_string();
    let refused = juror(&["serve", "--host", "0.0.0.0", "--port", &port], data.path());
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0"), "{stderr}");
    assert!(stderr.contains("`argilla` has the API key `argilla.apikey`") && stderr.contains("`argilla` has the password `12345678`"), "{stderr}");
    assert!(stderr.contains("--allow-default-credentials"), "{stderr}");

    let rotated = juror(&["user", "rotate-key", "--username", "argilla"], data.path());
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let new_key = text(&rotated.stdout).rsplit(": ").next().unwrap().trim().to_owned();
    assert!(new_key.len() >= 43 && new_key != KEY, "{new_key}");
    let still_refused = juror(&["serve", "--host", "0.0.0.0", "--port", &port], data.path());
    assert!(text(&still_refused.stderr).contains("has the password `12345678`"), "the password is still the default");
    let changed = set_password(data.path(), "argilla", "a much better password");
    assert!(changed.status.success(), "{}", text(&changed.stderr));
    let too_short = set_password(data.path(), "argilla", "short");
    assert!(!too_short.status.success());

    let (mut served, url) = serve_until_answered(data.path(), &["--host", "0.0.0.0"], &new_key);
    assert_eq!(status_with_key(&url, KEY), 401, "the rotated key no longer opens anything");
    served.kill().unwrap();
    served.wait().unwrap();
}

/// Starts `juror serve` with `extra` flags on a free port and waits until `key` is answered 200
/// (through 127.0.0.1); returns the process and its URL.
fn serve_until_answered(data: &std::path::Path, extra: &[&str], key: &str) -> (std::process::Child, String) {
    let port = free_port().to_string();
    let mut served = Command::new(env!("CARGO_BIN_EXE_juror"))
        .args(["serve", "--port", &port, "--data-dir"])
        .arg(data)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while status_with_key(&url, key) != 200 {
        assert!(started.elapsed() < Duration::from_secs(20), "juror serve {extra:?} did not start");
        assert!(served.try_wait().unwrap().is_none(), "juror serve {extra:?} exited");
        std::thread::sleep(Duration::from_millis(20));
    }
    (served, url)
}

#[test]
fn loopback_and_an_explicit_allowance_start_with_the_defaults() {
    let data = data_dir();
    for extra in [&["--host", "127.0.0.1"][..], &["--host", "0.0.0.0", "--allow-default-credentials"][..]] {
        let (mut served, _) = serve_until_answered(data.path(), extra, KEY);
        served.kill().unwrap();
        served.wait().unwrap();
    }
}
