//! An operator's USB stick (mounted read-only at `/run/gradbooth/stick` on the Pi; any
//! directory in development and tests): the bundles in its `gradbooth/` folder and their
//! signatures, **read once into memory** — a few dozen regular files of a few hundred KB at
//! most, no symlinks, UTF-8 names — so nothing on it can change between the check and the use.
//! A stick pulled mid-read, or a file that changes size while it is read, is refused whole.

use std::path::Path;

/// The most files `gradbooth/` may hold …
pub const MAX_FILES: usize = 48;
/// … each at most this large.
pub const MAX_FILE: u64 = 512 * 1024;

/// A bundle found on the stick, with its signatures, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub bytes: Vec<u8>,
    pub signatures: Vec<String>,
}

/// Why the stick could not be read; nothing on it is used then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickError {
    /// No `gradbooth/` folder at its root.
    NoFolder,
    /// The filesystem could not be read (or the stick went away).
    Unreadable(String),
    TooMany(usize),
    TooLarge(String),
    Symlink(String),
    NotUtf8Name,
    /// A file changed between listing and reading (the stick was pulled, or is being written).
    Changed(String),
}

impl StickError {
    pub fn code(&self) -> &'static str {
        match self {
            StickError::NoFolder => "no_folder",
            StickError::Unreadable(_) => "stick_unreadable",
            StickError::TooMany(_) => "too_many_files",
            StickError::TooLarge(_) => "file_too_large",
            StickError::Symlink(_) => "symlink",
            StickError::NotUtf8Name => "name_not_utf8",
            StickError::Changed(_) => "changed_while_read",
        }
    }
}

/// Whether `file` (a name in the same folder) is a signature of the bundle `bundle`:
/// `NAME.minisig`, or `NAME.<signer>.minisig` with no dot in `<signer>`.
pub fn signs(bundle: &str, file: &str) -> bool {
    if file == format!("{bundle}.minisig") {
        return true;
    }
    let signer = file.strip_prefix(&format!("{bundle}.")).and_then(|r| r.strip_suffix(".minisig"));
    signer.is_some_and(|s| !s.is_empty() && !s.contains('.'))
}

pub fn read(stick: &Path) -> Result<Vec<Found>, StickError> {
    read_between(stick, &mut || {})
}

/// `read`, calling `between` after listing and before reading (the tests pull the stick there).
fn read_between(stick: &Path, between: &mut dyn FnMut()) -> Result<Vec<Found>, StickError> {
    let dir = stick.join("gradbooth");
    let unreadable = |e: std::io::Error| StickError::Unreadable(e.to_string());
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StickError::NoFolder),
        Err(e) => return Err(unreadable(e)),
    };
    let mut listed = Vec::new();
    for e in entries {
        let e = e.map_err(unreadable)?;
        let name = e.file_name().into_string().map_err(|_| StickError::NotUtf8Name)?;
        let meta = std::fs::symlink_metadata(e.path()).map_err(unreadable)?;
        if meta.file_type().is_symlink() {
            return Err(StickError::Symlink(name));
        }
        if !meta.is_file() {
            continue; // export/, and whatever else an operator keeps there
        }
        if meta.len() > MAX_FILE {
            return Err(StickError::TooLarge(name));
        }
        listed.push((name, meta.len()));
        if listed.len() > MAX_FILES {
            return Err(StickError::TooMany(listed.len()));
        }
    }
    between();
    let mut files = Vec::with_capacity(listed.len());
    for (name, len) in listed {
        let bytes = std::fs::read(dir.join(&name)).map_err(unreadable)?;
        if bytes.len() as u64 != len {
            return Err(StickError::Changed(name));
        }
        files.push((name, bytes));
    }
    let mut found: Vec<Found> = files
        .iter()
        .filter(|(n, _)| n.ends_with(".toml"))
        .map(|(name, bytes)| Found {
            name: name.clone(),
            bytes: bytes.clone(),
            signatures: files
                .iter()
                .filter(|(s, _)| signs(name, s))
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .collect(),
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stick() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("gradbooth")).unwrap();
        d
    }

    fn put(d: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(d.join("gradbooth").join(name), bytes).unwrap();
    }

    #[test]
    fn a_bundle_comes_with_its_own_signatures_and_no_other_files() {
        let d = stick();
        put(d.path(), "winter.toml", b"[bundle]");
        put(d.path(), "winter.toml.minisig", b"sig 1");
        put(d.path(), "winter.toml.centre.minisig", b"sig 2");
        put(d.path(), "winter.toml.old.copy.minisig", b"not a signer name");
        put(d.path(), "notes.txt", b"hello");
        std::fs::create_dir(d.path().join("gradbooth/export")).unwrap();
        let found = read(d.path()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].signatures.len(), 2);
        assert!(
            signs("a.toml", "a.toml.minisig")
                && !signs("a.toml", "a.toml.x.y.minisig")
                && !signs("a.toml", "b.toml.minisig")
        );
    }

    #[test]
    fn a_stick_without_the_folder_a_symlink_a_huge_file_or_too_many_files_is_refused() {
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(read(empty.path()).unwrap_err(), StickError::NoFolder);
        let d = stick();
        std::os::unix::fs::symlink("/etc/passwd", d.path().join("gradbooth/evil.toml")).unwrap();
        assert_eq!(read(d.path()).unwrap_err().code(), "symlink");
        let d = stick();
        put(d.path(), "big.toml", &vec![b'#'; MAX_FILE as usize + 1]);
        assert_eq!(read(d.path()).unwrap_err().code(), "file_too_large");
        let d = stick();
        for i in 0..=MAX_FILES {
            put(d.path(), &format!("{i}.toml"), b"x");
        }
        assert_eq!(read(d.path()).unwrap_err().code(), "too_many_files");
    }

    #[test]
    fn a_stick_pulled_mid_read_changes_nothing() {
        let d = stick();
        put(d.path(), "winter.toml", b"[bundle]\nserial = 1\n");
        // A file truncated between listing and reading …
        let path = d.path().join("gradbooth/winter.toml");
        let e = read_between(d.path(), &mut || std::fs::write(&path, b"[bun").unwrap()).unwrap_err();
        assert_eq!(e.code(), "changed_while_read");
        // … or the whole folder gone.
        let folder = d.path().join("gradbooth");
        let e = read_between(d.path(), &mut || std::fs::remove_dir_all(&folder).unwrap()).unwrap_err();
        assert_eq!(e.code(), "stick_unreadable");
    }

    #[test]
    fn a_name_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStrExt;
        let d = stick();
        let name = std::ffi::OsStr::from_bytes(b"bad\xff.toml");
        std::fs::write(d.path().join("gradbooth").join(name), b"x").unwrap();
        assert_eq!(read(d.path()).unwrap_err(), StickError::NotUtf8Name);
    }
}
