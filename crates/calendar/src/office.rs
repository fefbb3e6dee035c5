use std::fmt;

use chrono::{NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use crate::CalendarError;

pub(crate) const NS_PER_SEC: i64 = 1_000_000_000;

/// The office hours of one working day: ordered, non-overlapping segments `[start, end]`.
///
/// Segment bounds are whole minutes so that `minutes_per_day` is exact and "N working days" can
/// be expressed as `N * minutes_per_day()` working minutes. Serialized as the `parse` format.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OfficeHours {
    segments: Vec<(NaiveTime, NaiveTime)>,
}

impl OfficeHours {
    /// Validates: at least one segment, each `start < end`, whole minutes, and each segment
    /// starting strictly after the previous one ends (touching segments must be merged, so a
    /// segment end is never also a segment start).
    pub fn new(segments: Vec<(NaiveTime, NaiveTime)>) -> Result<Self, CalendarError> {
        let bad = |msg: String| Err(CalendarError::InvalidOfficeHours(msg));
        if segments.is_empty() {
            return bad("至少需要设置一个办公时段".into());
        }
        for (i, &(start, end)) in segments.iter().enumerate() {
            let n = i + 1;
            let this = seg_str(start, end);
            if [start, end].iter().any(|t| t.second() != 0 || t.nanosecond() != 0) {
                return bad(format!("第 {n} 段「{this}」须精确到分钟"));
            }
            if start >= end {
                return bad(format!("第 {n} 段「{this}」的开始时间须早于结束时间"));
            }
            if i > 0 {
                let (ps, pe) = segments[i - 1];
                if start <= pe {
                    return bad(format!(
                        "第 {n} 段「{this}」须在上一段「{}」结束之后开始（时段不能重叠，相接的时段请合并）",
                        seg_str(ps, pe)
                    ));
                }
            }
        }
        Ok(Self { segments })
    }

    /// Parses `"09:00-12:00,13:30-18:00"`. Also tolerates the full-width comma and `~`/`～`/`–`
    /// as range separator, since admins type this into a Chinese UI.
    pub fn parse(s: &str) -> Result<Self, CalendarError> {
        let fmt_err = |piece: &str| {
            CalendarError::InvalidOfficeHours(format!(
                "「{}」格式不正确，应为 HH:MM-HH:MM，多个时段用逗号分隔，如 09:00-12:00,13:30-18:00",
                piece.trim()
            ))
        };
        let mut segments = Vec::new();
        for piece in s.split([',', '，']).filter(|p| !p.trim().is_empty()) {
            let mut ends = piece.split(['-', '~', '～', '–', '—']);
            let (Some(a), Some(b), None) = (ends.next(), ends.next(), ends.next()) else {
                return Err(fmt_err(piece));
            };
            let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| fmt_err(piece));
            segments.push((t(a)?, t(b)?));
        }
        Self::new(segments)
    }

    /// Office minutes in one working day.
    pub fn minutes_per_day(&self) -> i64 {
        self.segments.iter().map(|&(s, e)| (e - s).num_minutes()).sum()
    }

    pub fn segments(&self) -> &[(NaiveTime, NaiveTime)] {
        &self.segments
    }

    /// Start of the first segment: when a working day's clock starts.
    pub fn first_start(&self) -> NaiveTime {
        self.segments[0].0
    }

    /// End of the last segment: when a working day's clock stops.
    pub fn last_end(&self) -> NaiveTime {
        self.segments[self.segments.len() - 1].1
    }

    // ---- nanosecond positions within a day, for the arithmetic in `calendar` ----

    /// Segments as nanoseconds since midnight.
    pub(crate) fn spans(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.segments.iter().map(|&(s, e)| (time_ns(s), time_ns(e)))
    }

    pub(crate) fn ns_per_day(&self) -> i64 {
        self.spans().map(|(s, e)| e - s).sum()
    }

    /// Office time elapsed in a working day up to position `pos`.
    pub(crate) fn office_before(&self, pos: i64) -> i64 {
        self.spans().map(|(s, e)| (pos - s).clamp(0, e - s)).sum()
    }

    /// The earliest position at which `office_before` reaches `rem` (0 < rem <= ns_per_day):
    /// at a segment boundary this is the segment end, not the next segment's start.
    pub(crate) fn earliest_pos(&self, rem: i64) -> i64 {
        let mut acc = 0;
        let mut last = 0;
        for (s, e) in self.spans() {
            if rem <= acc + (e - s) {
                return s + (rem - acc);
            }
            acc += e - s;
            last = e;
        }
        last
    }

    /// The latest position at which `office_before` equals `rem` (0 <= rem < ns_per_day):
    /// at a segment boundary this is the next segment's start.
    pub(crate) fn latest_pos(&self, rem: i64) -> i64 {
        let mut acc = 0;
        let mut last = 0;
        for (s, e) in self.spans() {
            if rem < acc + (e - s) {
                return s + (rem - acc);
            }
            acc += e - s;
            last = e;
        }
        last
    }
}

impl Default for OfficeHours {
    /// 09:00–12:00 and 13:30–18:00, the usual government office day.
    fn default() -> Self {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("constant time is valid");
        Self { segments: vec![(t(9, 0), t(12, 0)), (t(13, 30), t(18, 0))] }
    }
}

impl fmt::Display for OfficeHours {
    /// Same format as `parse`, so settings round-trip through text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.segments.iter().map(|&(s, e)| seg_str(s, e)).collect();
        f.write_str(&parts.join(","))
    }
}

impl TryFrom<String> for OfficeHours {
    type Error = CalendarError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<OfficeHours> for String {
    fn from(o: OfficeHours) -> String {
        o.to_string()
    }
}

fn seg_str(s: NaiveTime, e: NaiveTime) -> String {
    format!("{}-{}", s.format("%H:%M"), e.format("%H:%M"))
}

pub(crate) fn time_ns(t: NaiveTime) -> i64 {
    i64::from(t.num_seconds_from_midnight()) * NS_PER_SEC + i64::from(t.nanosecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn default_is_two_segments() {
        let o = OfficeHours::default();
        assert_eq!(o.segments(), &[(t(9, 0), t(12, 0)), (t(13, 30), t(18, 0))]);
        assert_eq!(o.minutes_per_day(), 450);
        assert_eq!(o.to_string(), "09:00-12:00,13:30-18:00");
        assert_eq!(o.first_start(), t(9, 0));
        assert_eq!(o.last_end(), t(18, 0));
    }

    #[test]
    fn parse_round_trips() {
        let o = OfficeHours::parse("09:00-12:00,13:30-18:00").unwrap();
        assert_eq!(o, OfficeHours::default());
        assert_eq!(OfficeHours::parse(&o.to_string()).unwrap(), o);
        let loose = OfficeHours::parse(" 8:30 ~ 11:45 ， 14:00–17:30, ").unwrap();
        assert_eq!(loose.to_string(), "08:30-11:45,14:00-17:30");
        assert_eq!(loose.minutes_per_day(), 195 + 210);
        assert_eq!(OfficeHours::parse("00:00-23:59").unwrap().minutes_per_day(), 1439);
    }

    #[test]
    fn parse_rejects_bad_text() {
        for bad in ["", " , ", "09:00", "09:00-12:00-13:00", "9-12", "09:00-24:00", "abc-def"] {
            let e = OfficeHours::parse(bad).unwrap_err();
            assert!(matches!(e, CalendarError::InvalidOfficeHours(_)), "{bad}");
        }
        assert_eq!(
            OfficeHours::parse("09:00-1200").unwrap_err().to_string(),
            "办公时间设置无效：「09:00-1200」格式不正确，应为 HH:MM-HH:MM，多个时段用逗号分隔，如 09:00-12:00,13:30-18:00"
        );
    }

    #[test]
    fn new_validates() {
        let msg = |segs| OfficeHours::new(segs).unwrap_err().to_string();
        assert_eq!(msg(vec![]), "办公时间设置无效：至少需要设置一个办公时段");
        assert_eq!(msg(vec![(t(12, 0), t(9, 0))]), "办公时间设置无效：第 1 段「12:00-09:00」的开始时间须早于结束时间");
        assert!(msg(vec![(t(9, 0), t(9, 0))]).contains("须早于"));
        assert!(msg(vec![(t(9, 0), t(12, 0)), (t(11, 0), t(13, 0))]).contains("不能重叠"));
        assert!(msg(vec![(t(9, 0), t(12, 0)), (t(12, 0), t(13, 0))]).contains("相接的时段请合并"));
        assert!(msg(vec![(t(13, 0), t(14, 0)), (t(9, 0), t(12, 0))]).contains("第 2 段"));
        let secs = NaiveTime::from_hms_opt(9, 0, 30).unwrap();
        assert!(msg(vec![(secs, t(12, 0))]).contains("精确到分钟"));
        assert!(OfficeHours::new(vec![(t(8, 0), t(12, 0)), (t(14, 0), t(17, 0)), (t(19, 0), t(20, 0))]).is_ok());
    }

    #[test]
    fn serde_uses_text_form() {
        let o = OfficeHours::default();
        let j = serde_json::to_string(&o).unwrap();
        assert_eq!(j, "\"09:00-12:00,13:30-18:00\"");
        assert_eq!(serde_json::from_str::<OfficeHours>(&j).unwrap(), o);
        assert!(serde_json::from_str::<OfficeHours>("\"12:00-09:00\"").is_err());
    }

    #[test]
    fn positions() {
        let o = OfficeHours::default();
        let m = |x: i64| x * 60 * NS_PER_SEC;
        assert_eq!(o.ns_per_day(), m(450));
        assert_eq!(o.office_before(m(8 * 60)), 0);
        assert_eq!(o.office_before(m(10 * 60)), m(60));
        assert_eq!(o.office_before(m(13 * 60)), m(180));
        assert_eq!(o.office_before(m(19 * 60)), m(450));
        // 180 minutes in: earliest is 12:00, latest is 13:30.
        assert_eq!(o.earliest_pos(m(180)), m(12 * 60));
        assert_eq!(o.latest_pos(m(180)), m(13 * 60 + 30));
        assert_eq!(o.latest_pos(0), m(9 * 60));
        assert_eq!(o.earliest_pos(m(450)), m(18 * 60));
        assert_eq!(o.earliest_pos(m(60)), m(10 * 60));
        assert_eq!(o.latest_pos(m(60)), m(10 * 60));
    }
}
