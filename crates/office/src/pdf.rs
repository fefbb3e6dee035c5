//! What a file looks like on paper: an .xlsx or .docx converted to PDF by LibreOffice
//! (`soffice --headless --convert-to pdf`), its page count read by `pdfinfo` and each page's
//! text by `pdftotext -layout` (poppler-utils). The tests use it to check print layouts the way
//! a clerk would see them; nothing in the server calls it.
//!
//! Debian packages: `libreoffice-calc-nogui`, `libreoffice-writer-nogui`, `poppler-utils`
//! (installed by `scripts/test.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// A printed file: its page count and the text of each page, in order.
#[derive(Clone, Debug)]
pub struct Printed {
    pub pages: usize,
    /// One entry per page, laid out as printed (`pdftotext -layout`).
    pub page_text: Vec<String>,
}

impl Printed {
    /// The text of page `n` (1-based); empty past the last page.
    pub fn page(&self, n: usize) -> &str {
        n.checked_sub(1).and_then(|i| self.page_text.get(i)).map(String::as_str).unwrap_or("")
    }

    /// All pages' text.
    pub fn text(&self) -> String {
        self.page_text.join("\n")
    }
}

/// The programs a conversion needs.
#[derive(Clone, Debug)]
pub struct Tools {
    pub soffice: PathBuf,
    pub pdfinfo: PathBuf,
    pub pdftotext: PathBuf,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

impl Tools {
    /// The programs, if all are installed (`soffice` or `libreoffice`, `pdfinfo`, `pdftotext`).
    pub fn find() -> Result<Tools, String> {
        let soffice = on_path("soffice").or_else(|| on_path("libreoffice"));
        let missing: Vec<&str> = [
            ("soffice（libreoffice-calc-nogui / libreoffice-writer-nogui）", soffice.is_none()),
            ("pdfinfo（poppler-utils）", on_path("pdfinfo").is_none()),
            ("pdftotext（poppler-utils）", on_path("pdftotext").is_none()),
        ]
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| n)
        .collect();
        match soffice {
            Some(soffice) if missing.is_empty() => Ok(Tools {
                soffice,
                pdfinfo: on_path("pdfinfo").unwrap_or_default(),
                pdftotext: on_path("pdftotext").unwrap_or_default(),
            }),
            _ => Err(format!("missing: {}", missing.join(", "))),
        }
    }

    /// For tests: the programs, or `None` with a message on stderr when they are missing —
    /// unless `CI` is set (to anything but "", "0" or "false"), where missing programs panic, so
    /// a CI run cannot pass without the print checks.
    pub fn for_tests() -> Option<Tools> {
        match Tools::find() {
            Ok(t) => Some(t),
            Err(e) => {
                let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
                if ci {
                    panic!("CI is set but the PDF print checks cannot run: {e}");
                }
                eprintln!(
                    "SKIPPING the PDF print check: {e}; install them (scripts/test.sh does) or set CI=true to fail"
                );
                None
            }
        }
    }

    /// Print `bytes` (a file with extension `ext`, "xlsx" or "docx") to PDF and read it back.
    pub fn print(&self, bytes: &[u8], ext: &str) -> Result<Printed, String> {
        self.print_as(bytes, ext, "")
    }

    /// [`Tools::print`], keeping the PDF as `<name>.pdf` in the directory named by
    /// `XIETONG_PRINT_ARTIFACTS` when that is set (to look at what the tests printed).
    pub fn print_as(&self, bytes: &[u8], ext: &str, name: &str) -> Result<Printed, String> {
        let dir = tempfile_dir()?;
        let result = self.print_in(dir.as_path(), bytes, ext);
        let keep = std::env::var_os("XIETONG_PRINT_ARTIFACTS").filter(|_| !name.is_empty() && result.is_ok());
        if let Some(keep) = keep {
            let keep = PathBuf::from(keep);
            let copied = std::fs::create_dir_all(&keep)
                .and_then(|_| std::fs::copy(dir.join("file.pdf"), keep.join(format!("{name}.pdf"))));
            if let Err(e) = copied {
                eprintln!("could not keep {name}.pdf in {}: {e}", keep.display());
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// `bytes` (a file with extension `ext`: "xlsx", "docx", "txt") converted to PDF, as LibreOffice
    /// prints it: a clerk's 另存为 PDF.
    pub fn to_pdf(&self, bytes: &[u8], ext: &str) -> Result<Vec<u8>, String> {
        let dir = tempfile_dir()?;
        let result = self
            .convert_in(dir.as_path(), bytes, ext)
            .and_then(|pdf| std::fs::read(&pdf).map_err(|e| format!("reading {}: {e}", pdf.display())));
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    fn print_in(&self, dir: &Path, bytes: &[u8], ext: &str) -> Result<Printed, String> {
        let pdf = self.convert_in(dir, bytes, ext)?;
        let info = run(Command::new(&self.pdfinfo).arg(&pdf))?;
        let pages = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .ok_or_else(|| format!("pdfinfo gave no page count: {info}"))?;
        let text = run(Command::new(&self.pdftotext).args(["-layout", "-enc", "UTF-8"]).arg(&pdf).arg("-"))?;
        // pdftotext ends every page with a form feed.
        let mut page_text: Vec<String> = text.split('\u{c}').map(str::to_string).collect();
        page_text.truncate(pages);
        Ok(Printed { pages, page_text })
    }

    /// Convert `bytes` to `<dir>/file.pdf` and return its path.
    fn convert_in(&self, dir: &Path, bytes: &[u8], ext: &str) -> Result<PathBuf, String> {
        let input = dir.join(format!("file.{ext}"));
        std::fs::write(&input, bytes).map_err(|e| format!("writing {}: {e}", input.display()))?;
        let pdf = dir.join("file.pdf");
        // A fresh profile's first start sometimes aborts (signal 6 in syncRepositories, seen once in
        // 2026-12 with several soffice starting at once): a second start on a new profile is tried.
        let mut out = None;
        for attempt in 0..2 {
            // A profile of its own: LibreOffice refuses to run twice on one profile, and tests run
            // in parallel.
            let profile = format!("-env:UserInstallation=file://{}", dir.join(format!("profile{attempt}")).display());
            let o = Command::new(&self.soffice)
                .arg(&profile)
                .args(["--headless", "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir"])
                .arg(dir)
                .arg(&input)
                .output()
                .map_err(|e| format!("running soffice: {e}"))?;
            let crashed = o.status.code().is_none_or(|c| c >= 128);
            out = Some(o);
            if pdf.is_file() || !crashed {
                break;
            }
        }
        let out = out.ok_or("soffice did not run")?;
        if !pdf.is_file() {
            return Err(format!(
                "soffice made no PDF (exit {:?}): {} {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(pdf)
    }
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A fresh directory under the system's temporary directory.
fn tempfile_dir() -> Result<PathBuf, String> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "xietong-print-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}
