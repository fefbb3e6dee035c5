//! Evidence attached to a record: the limits a batch of files must respect, and what a photo's
//! EXIF capture time and position say about it. Pure, so the rules are property-tested here and
//! the web layer only reads bytes.

use chrono::NaiveDateTime;

/// One file may be at most this large (20 MiB): a phone photo or a scanned 文件 fits easily.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// One report (汇报, 办结申请, 延期申请) carries at most this much in all.
pub const MAX_BATCH_BYTES: u64 = 50 * 1024 * 1024;
/// And at most this many files, as 九宫格 on a phone.
pub const MAX_FILES: usize = 9;

/// The flag raised beside a photo whose capture time precedes the task's 交办.
pub const TAKEN_BEFORE_ASSIGNMENT: &str = "照片拍摄于交办之前";

/// The kinds of file accepted as evidence, told by content (never by the name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Jpeg,
    Png,
    Pdf,
    Docx,
    Xlsx,
    /// OFD (GB/T 33190), the layout format of Chinese government e-documents: a ZIP container
    /// with `OFD.xml` at its root (the web layer looks inside; any other ZIP is refused).
    Ofd,
}

impl FileKind {
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Ofd => "application/ofd",
        }
    }

    /// The kind for a MIME type detected from the content; anything else (ZIP, executables,
    /// HEIC until a well-kept decoder exists, …) is refused.
    pub fn from_mime(mime: &str) -> Option<FileKind> {
        [FileKind::Jpeg, FileKind::Png, FileKind::Pdf, FileKind::Docx, FileKind::Xlsx, FileKind::Ofd]
            .into_iter()
            .find(|k| k.mime() == mime)
    }

    pub fn is_image(self) -> bool {
        matches!(self, FileKind::Jpeg | FileKind::Png)
    }
}

/// Check a batch's count and sizes (name, bytes) in the order given; the message names the
/// first file that breaks a limit.
pub fn check_batch<'a>(files: impl IntoIterator<Item = (&'a str, u64)>) -> Result<(), String> {
    let mut count = 0usize;
    let mut total = 0u64;
    for (name, size) in files {
        count += 1;
        if count > MAX_FILES {
            return Err(format!("附件「{name}」超出数量限制：每次最多 {MAX_FILES} 个文件"));
        }
        if size > MAX_FILE_BYTES {
            return Err(format!("附件「{name}」过大：单个文件不超过 {} MB", MAX_FILE_BYTES / (1024 * 1024)));
        }
        total += size;
        if total > MAX_BATCH_BYTES {
            return Err(format!("附件「{name}」超出总大小限制：每次合计不超过 {} MB", MAX_BATCH_BYTES / (1024 * 1024)));
        }
    }
    Ok(())
}

/// Whether a photo was taken before the task was assigned. Without either time there is
/// nothing to say, so no flag: a missing EXIF is not evidence of anything.
pub fn taken_before_assignment(taken_at: Option<NaiveDateTime>, assigned_at: Option<NaiveDateTime>) -> bool {
    matches!((taken_at, assigned_at), (Some(t), Some(a)) if t < a)
}

/// "拍摄于 2026-11-20 14:03，北纬 31.2304°，东经 121.4737°" from what the EXIF gave; `None`
/// when it gave nothing.
pub fn describe(taken_at: Option<NaiveDateTime>, lat: Option<f64>, lon: Option<f64>) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(t) = taken_at {
        parts.push(format!("拍摄于 {}", t.format("%Y-%m-%d %H:%M")));
    }
    if let (Some(lat), Some(lon)) = (lat, lon) {
        let ns = if lat >= 0.0 { "北纬" } else { "南纬" };
        let ew = if lon >= 0.0 { "东经" } else { "西经" };
        parts.push(format!("{ns} {:.4}°，{ew} {:.4}°", lat.abs(), lon.abs()));
    }
    (!parts.is_empty()).then(|| parts.join("，"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, NaiveDate};
    use proptest::prelude::*;

    fn at(minutes: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    proptest! {
        #[test]
        fn flagged_exactly_when_taken_strictly_before(t in 0i64..2_000_000, a in 0i64..2_000_000) {
            prop_assert_eq!(taken_before_assignment(Some(at(t)), Some(at(a))), t < a);
        }

        #[test]
        fn never_flagged_without_both_times(t in 0i64..2_000_000) {
            prop_assert!(!taken_before_assignment(Some(at(t)), None));
            prop_assert!(!taken_before_assignment(None, Some(at(t))));
        }

        #[test]
        fn a_batch_passes_exactly_within_every_limit(sizes in proptest::collection::vec(0u64..30 * 1024 * 1024, 0..12)) {
            let names: Vec<String> = (0..sizes.len()).map(|i| format!("f{i}.pdf")).collect();
            let ok = sizes.len() <= MAX_FILES
                && sizes.iter().all(|s| *s <= MAX_FILE_BYTES)
                && sizes.iter().sum::<u64>() <= MAX_BATCH_BYTES;
            let r = check_batch(names.iter().map(String::as_str).zip(sizes.iter().copied()));
            prop_assert_eq!(r.is_ok(), ok);
            if let Err(m) = r {
                // The message names a file of the batch.
                let named = names.iter().any(|n| m.contains(&format!("「{n}」")));
                prop_assert!(named, "{}", m);
            }
        }
    }

    #[test]
    fn description_reads_as_the_page_shows_it() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap().and_hms_opt(14, 3, 9).unwrap();
        assert_eq!(
            describe(Some(t), Some(31.23041), Some(121.47372)).as_deref(),
            Some("拍摄于 2026-11-20 14:03，北纬 31.2304°，东经 121.4737°")
        );
        assert_eq!(describe(None, None, Some(1.0)), None);
    }
}
