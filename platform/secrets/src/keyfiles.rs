//! Key files: one 32-byte key per file, hex, named `<kid><suffix>`, mode 0600. Kids are
//! `k` + a UUIDv7, so the greatest kid is the newest key.

use std::path::Path;

use crate::SecretsError;

/// Every key in `dir` ending in `suffix`; when there is none, a new one is generated and
/// written (a read-only directory, like a mounted secret, must then already hold one).
pub fn load_or_create(dir: &Path, suffix: &str) -> Result<Vec<(String, [u8; 32])>, SecretsError> {
    let io = |source: std::io::Error| SecretsError::Io {
        dir: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(kid) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(suffix))
        else {
            continue;
        };
        let text = std::fs::read_to_string(&path).map_err(io)?;
        let key = decode_hex(text.trim())
            .ok_or_else(|| SecretsError::BadKeyFile(path.display().to_string()))?;
        keys.push((kid.to_owned(), key));
    }
    if keys.is_empty() {
        let kid = format!("k{}", uuid::Uuid::now_v7().simple());
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| SecretsError::Random(e.to_string()))?;
        write_private(&dir.join(format!("{kid}{suffix}")), &encode_hex(&key)).map_err(io)?;
        tracing::info!(%kid, kind = suffix, "generated a key");
        keys.push((kid, key));
    }
    Ok(keys)
}

pub fn encode_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}
