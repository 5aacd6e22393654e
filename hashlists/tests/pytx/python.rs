//! The python of the pytx venv (`scripts/pytx-venv`, created by `scripts/install-test-deps`),
//! shared by the test files that run pytx.

use std::path::{Path, PathBuf};

/// `TAKEDOWN_PYTX_PYTHON`, else the venv's python; panics with what to run when it is missing.
pub fn pytx_python() -> PathBuf {
    if let Some(p) = std::env::var_os("TAKEDOWN_PYTX_PYTHON") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let default = Path::new(&home).join(".cache/takedown/pytx-venv/bin/python");
    assert!(
        default.exists(),
        "pytx is not installed: run scripts/install-test-deps (or scripts/pytx-venv) first"
    );
    default
}
