//! What distlab writes: only inside the output directory the user names, and colors only on a
//! terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// The output directory of a command.
#[derive(Debug)]
pub struct OutDir(PathBuf);

impl OutDir {
    /// Creates (if needed) the directory `path`.
    pub fn create(path: &Path) -> Result<OutDir, String> {
        std::fs::create_dir_all(path)
            .map_err(|e| format!("cannot create the output directory {}: {e}", path.display()))?;
        Ok(OutDir(path.to_path_buf()))
    }

    /// Writes `contents` to the file `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> Result<PathBuf, String> {
        let path = self.0.join(name);
        std::fs::write(&path, contents)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    /// The path of the file `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

/// Paints `text` green (`good`) or red, when stdout is a terminal.
pub fn verdict(text: &str, good: bool) -> String {
    if std::io::stdout().is_terminal() {
        let color = if good { 32 } else { 31 };
        format!("\x1b[1;{color}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}
