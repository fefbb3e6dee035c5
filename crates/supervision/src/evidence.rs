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

/// A photo taken farther than this from the task's site (when one is set) is flagged: a few
/// kilometres allow for a large site, a phone's GPS error and a road-works section.
pub const FAR_FROM_SITE_KM: f64 = 3.0;

/// Great-circle distance in kilometres between two (latitude, longitude) points in degrees
/// (haversine on a 6 371 km sphere: far more precise than the flag needs).
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// "照片拍摄地点距任务地点约 12.3 公里" when a photo's position and the task's site are both known
/// and farther apart than [`FAR_FROM_SITE_KM`]; nothing otherwise.
pub fn far_from_site(photo: (Option<f64>, Option<f64>), site: (Option<f64>, Option<f64>)) -> Option<String> {
    let (Some(pa), Some(po), Some(sa), Some(so)) = (photo.0, photo.1, site.0, site.1) else { return None };
    let d = distance_km((pa, po), (sa, so));
    (d > FAR_FROM_SITE_KM).then(|| format!("照片拍摄地点距任务地点约 {d:.1} 公里"))
}

/// Check a task site typed by the 督查局: both coordinates or neither, within range.
pub fn check_site(lat: Option<f64>, lon: Option<f64>) -> Result<Option<(f64, f64)>, (&'static str, &'static str)> {
    match (lat, lon) {
        (None, None) => Ok(None),
        // A NaN is in no range, so it is refused here too.
        (Some(a), Some(_)) if !(-90.0..=90.0).contains(&a) => Err(("纬度", "应在 -90 到 90 之间")),
        (Some(_), Some(o)) if !(-180.0..=180.0).contains(&o) => Err(("经度", "应在 -180 到 180 之间")),
        (Some(a), Some(o)) => Ok(Some((a, o))),
        (None, Some(_)) => Err(("纬度", "请同时填写纬度和经度")),
        (Some(_), None) => Err(("经度", "请同时填写纬度和经度")),
    }
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

    proptest! {
        #[test]
        fn distance_is_a_symmetric_measure(a in -89.0f64..89.0, b in -179.0f64..179.0, c in -89.0f64..89.0, d in -179.0f64..179.0) {
            let (p, q) = ((a, b), (c, d));
            prop_assert!(distance_km(p, p).abs() < 1e-6);
            prop_assert!((distance_km(p, q) - distance_km(q, p)).abs() < 1e-6);
            // Never more than half the Earth's circumference.
            prop_assert!(distance_km(p, q) <= std::f64::consts::PI * 6371.0 + 1e-6);
        }

        #[test]
        fn flagged_exactly_beyond_the_threshold(a in 20.0f64..50.0, b in 100.0f64..130.0, dlat in -0.2f64..0.2) {
            let d = distance_km((a, b), (a + dlat, b));
            let flag = far_from_site((Some(a), Some(b)), (Some(a + dlat), Some(b)));
            prop_assert_eq!(flag.is_some(), d > FAR_FROM_SITE_KM);
            // Without a site, or without a position, there is nothing to say.
            prop_assert!(far_from_site((Some(a), Some(b)), (None, None)).is_none());
            prop_assert!(far_from_site((None, None), (Some(a), Some(b))).is_none());
        }
    }

    #[test]
    fn known_distances_and_site_checks() {
        // 郑州二七广场 to 上海人民广场: about 830 km.
        let d = distance_km((34.7536, 113.6656), (31.2304, 121.4737));
        assert!((820.0..840.0).contains(&d), "{d}");
        // One degree of latitude is about 111 km.
        assert!((distance_km((34.0, 113.0), (35.0, 113.0)) - 111.2).abs() < 0.5);
        assert_eq!(
            far_from_site((Some(34.7536), Some(113.6656)), (Some(34.7536), Some(113.7656))).as_deref(),
            Some("照片拍摄地点距任务地点约 9.1 公里")
        );
        assert_eq!(check_site(None, None), Ok(None));
        assert_eq!(check_site(Some(34.7), Some(113.6)), Ok(Some((34.7, 113.6))));
        assert_eq!(check_site(Some(91.0), Some(113.6)), Err(("纬度", "应在 -90 到 90 之间")));
        assert_eq!(check_site(Some(34.0), Some(181.0)), Err(("经度", "应在 -180 到 180 之间")));
        assert_eq!(check_site(Some(34.0), None), Err(("经度", "请同时填写纬度和经度")));
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
