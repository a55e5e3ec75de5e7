//! Golden-file comparison: `UPDATE_GOLDEN=1 cargo test -p <crate>` rewrites
//! the files under `tests/golden/`; review the diff by eye, they are the spec.

use std::path::PathBuf;

/// Compares `actual` with `tests/golden/<name>`, or rewrites it when
/// `UPDATE_GOLDEN=1`. Returns a description of the mismatch.
pub fn check(name: &str, actual: &str) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("create dir");
        std::fs::write(&path, actual).expect("write golden file");
        return Ok(());
    }
    let expected = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (UPDATE_GOLDEN=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ))
    }
}

/// Checks every `(name, actual)` pair and fails once with every mismatch.
pub fn check_all(results: impl IntoIterator<Item = (String, String)>) {
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|(name, actual)| check(&name, &actual).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
