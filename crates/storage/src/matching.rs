//! Explained matching across the libraries: for a problem, achievements and experts; for an
//! achievement, problems and enterprises; for an expert, problems. Text relevance comes from the
//! jieba + tantivy indexes a serving node keeps current from the change log (achievements on disk,
//! experts and problems in memory; the enterprises' small index is built per request, since an
//! enterprise's text is the problems the asking user may read); `xietong_docking::matching` adds
//! the structured signals and writes the reasons.

use std::collections::HashSet;

use serde::Serialize;
use xietong_docking::matching::{
    self, Fit, Signals, Weights, industry_fit, location_fit, mode_fit, relative, shared_keywords,
};
use xietong_search::hybrid::{self, Evidence, Ranked, Vectors};
use xietong_search::{AchievementDoc, Hit, MAX_QUERY_CHARS, MatchIndex, MatchOptions, SearchError};
use xietong_supervision::Role;

use crate::auth::SessionUser;
use crate::libraries::{Expert, TechProblem, reads_all, split_list};
use crate::{Db, Result, RowExt, StoreError};

/// Candidates fetched from the text search before the structured signals re-rank them.
const CANDIDATES: usize = 50;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Match {
    /// achievement | expert | problem | enterprise
    pub kind: String,
    pub id: i64,
    pub rank: usize,
    pub title: String,
    pub subtitle: String,
    /// 0..=1
    pub score: f64,
    pub matched_terms: Vec<String>,
    /// 匹配理由
    pub reasons: Vec<String>,
    /// The sentences of the record that best support the match, the need's terms marked.
    pub evidence: Vec<Evidence>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Matches {
    pub achievements: Vec<Match>,
    pub experts: Vec<Match>,
    pub problems: Vec<Match>,
    pub enterprises: Vec<Match>,
    /// Whether sentence vectors ranked with the words (false: the model is not loaded, words alone).
    pub semantic: bool,
    /// Of the best `top`, how many achievements fell below the relevance threshold (相关度不足，未推荐).
    pub withheld_achievements: usize,
    /// The same for experts.
    pub withheld_experts: usize,
}

impl Matches {
    fn none() -> Self {
        Matches {
            achievements: vec![],
            experts: vec![],
            problems: vec![],
            enterprises: vec![],
            semantic: false,
            withheld_achievements: 0,
            withheld_experts: 0,
        }
    }
}

/// What the sentence vectors add to a problem's matching: the stored vectors of achievements and
/// experts, and the need's own vector (computed by the caller with the same model).
pub struct Dense<'a> {
    pub achievements: &'a Vectors,
    pub experts: &'a Vectors,
    pub query: &'a [f32],
}

/// A need's two lists, best first: achievements and experts.
pub struct Ranking {
    pub achievements: Vec<Ranked>,
    pub experts: Vec<Ranked>,
}

/// Rank this node's achievements and experts for need `q` by [`hybrid::rank`] — the ranking `xietong
/// match` prints — with the sentence vectors when `dense` gives them. CPU only: for a blocking thread.
pub fn rank_need(
    index: &MatchIndex,
    experts: &MatchIndex,
    dense: Option<Dense<'_>>,
    q: &str,
    top: usize,
) -> Result<Ranking> {
    let top = top.clamp(1, 50);
    let achievements =
        hybrid::rank(index, dense.as_ref().map(|d| (d.achievements, d.query)), q, top).map_err(search_err)?;
    let experts = hybrid::rank(experts, dense.as_ref().map(|d| (d.experts, d.query)), q, top).map_err(search_err)?;
    Ok(Ranking { achievements, experts })
}

/// A note naming the problem's keywords found in `body`, if any.
fn keywords_note(keywords: &[String], body: &str) -> Option<String> {
    let k = shared_keywords(keywords, body);
    (!k.is_empty()).then(|| format!("共同关键词：{}", k.join("、")))
}

/// A note for a maturity ↔ mode fit, if it says anything.
fn fit_note(f: Fit) -> Option<String> {
    match f {
        Fit::Good(r) => Some(r),
        Fit::Weak(r) => Some(format!("注意：{r}")),
        Fit::Unknown => None,
    }
}

/// A match of the hybrid ranking, its reasons first what ranked it (meaning, then the words), then the
/// docking notes that did not.
fn explained(
    kind: &str,
    id: i64,
    title: String,
    subtitle: String,
    h: Ranked,
    notes: [Option<String>; 4],
    before: usize,
) -> Match {
    let mut reasons = vec![];
    if let Some(c) = h.cosine {
        reasons.push(format!("语义相似度 {c:.2}"));
    }
    if !h.matched_terms.is_empty() {
        reasons.push(format!("命中：{}", h.matched_terms.join("、")));
    }
    reasons.extend(notes.into_iter().flatten());
    Match {
        kind: kind.into(),
        id,
        rank: before + 1,
        title,
        subtitle,
        score: (f64::from(h.score) * 1000.0).round() / 1000.0,
        matched_terms: h.matched_terms,
        reasons,
        evidence: h.evidence,
    }
}

/// A search error as the store answers it: a bad query names the field `q`.
pub fn search_err(e: SearchError) -> StoreError {
    match e {
        e @ (SearchError::EmptyQuery | SearchError::QueryTooLong { .. }) => StoreError::invalid("q", e.to_string()),
        other => StoreError::internal(other.to_string()),
    }
}

/// A record's own text as a query, cut to the search's limit.
fn query_of(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
        .chars()
        .take(MAX_QUERY_CHARS)
        .collect()
}

/// Matching is the platform's: not the supervision liaisons' and responsible persons'.
fn may_match(u: &SessionUser) -> Result<()> {
    if matches!(u.role, Role::Liaison | Role::Responsible) {
        Err(StoreError::Denied("无权限：产学研匹配仅对科技局、区领导、企业和高校院所开放".into()))
    } else {
        Ok(())
    }
}

/// The problems a match may list: those the asking user may read, found through this node's index of
/// every published problem, or (without one) through an index built for the request.
struct Readable<'a> {
    index: Option<&'a MatchIndex>,
    problems: &'a [TechProblem],
}

/// Problems for a text (an achievement's or an expert's): relevance, then discipline ↔ industry
/// for any of `disciplines`, the problem's keywords found in `body`, the achievement's `maturity`
/// against the wanted mode (when there is an achievement), and location.
fn rank_problems(
    Readable { index, problems }: Readable<'_>,
    q: &str,
    body: &str,
    disciplines: &[&str],
    maturity: Option<&str>,
    location: &str,
    top: usize,
) -> Result<Vec<Match>> {
    let hits = match index {
        // The node's index holds every published problem: the hits this user may read are kept.
        Some(idx) => {
            let readable: HashSet<String> = problems.iter().map(|p| p.id.to_string()).collect();
            let all = idx.search(q, (idx.num_docs() as usize).max(1), &MatchOptions::default()).map_err(search_err)?;
            all.into_iter().filter(|h| readable.contains(&h.external_id)).take(CANDIDATES).collect()
        }
        None => search_in_ram(&problems.iter().map(problem_doc).collect::<Vec<_>>(), q, CANDIDATES)?,
    };
    let rel = relative(&hits.iter().map(|h| h.score).collect::<Vec<_>>());
    let mut cands = vec![];
    for (h, text) in hits.iter().zip(rel) {
        let Some(p) = problems.iter().find(|p| p.id.to_string() == h.external_id) else { continue };
        let (code, name) = (p.industry_code.as_deref().unwrap_or(""), p.industry_name.as_deref().unwrap_or(""));
        let s = Signals {
            text,
            matched_terms: h.matched_terms.clone(),
            industry: disciplines.iter().find_map(|d| industry_fit(d, code, name)),
            shared_keywords: shared_keywords(&p.keywords, body),
            mode: maturity.filter(|_| !p.cooperation_mode.is_empty()).map(|m| mode_fit(m, &p.cooperation_mode)),
            location: location_fit(location, &p.enterprise_location),
        };
        cands.push(((p.id, p.title.clone(), p.enterprise_name.clone(), h.matched_terms.clone(), vec![]), s));
    }
    Ok(finish("problem", matching::rank(cands, &Weights::default(), top)))
}

fn search_in_ram(docs: &[AchievementDoc], query: &str, top: usize) -> Result<Vec<Hit>> {
    if docs.is_empty() {
        return Ok(vec![]);
    }
    let idx = MatchIndex::build_in_ram(docs).map_err(search_err)?;
    idx.search(query, top, &MatchOptions::default()).map_err(search_err)
}

/// A ranked candidate: (id, title, subtitle, matched terms, reasons to add to the scorer's).
type Candidate = (i64, String, String, Vec<String>, Vec<String>);

fn finish(kind: &str, ranked: Vec<(Candidate, matching::Scored)>) -> Vec<Match> {
    ranked
        .into_iter()
        .enumerate()
        .map(|(i, ((id, title, subtitle, terms, extra), s))| {
            let mut reasons = s.reasons;
            reasons.extend(extra.into_iter().filter(|r| !r.is_empty()).take(1));
            Match {
                kind: kind.into(),
                id,
                rank: i + 1,
                title,
                subtitle,
                score: (s.score * 1000.0).round() / 1000.0,
                matched_terms: terms,
                reasons,
                evidence: vec![],
            }
        })
        .collect()
}

struct AchievementRow {
    id: i64,
    external_id: String,
    title: String,
    abstract_text: String,
    keywords: Vec<String>,
    discipline: String,
    maturity: String,
    institution: String,
    location: String,
    status: String,
}

pub(crate) fn problem_doc(p: &TechProblem) -> AchievementDoc {
    AchievementDoc {
        external_id: p.id.to_string(),
        title: p.title.clone(),
        abstract_text: p.description.clone(),
        keywords: p.keywords.clone(),
        discipline: p.industry_name.clone().unwrap_or_default(),
        category: String::new(),
        maturity: None,
        location: None,
    }
}

impl Db {
    /// An achievement by its id or by its external id.
    async fn achievement_row(&self, id: Option<i64>, external_id: Option<&str>) -> Result<Option<AchievementRow>> {
        let r = sqlx::query(
            "SELECT a.*, COALESCE(i.location, '') AS inst_location FROM achievements a LEFT JOIN institutions i ON i.id = a.institution_id WHERE a.id = $1 OR a.external_id = $2",
        )
        .bind(id.unwrap_or(-1))
        .bind(external_id.unwrap_or("").to_string())
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(AchievementRow {
                id: r.i("id")?,
                external_id: r.s("external_id")?,
                title: r.s("title")?,
                abstract_text: r.s("abstract")?,
                keywords: split_list(&r.s("keywords")?),
                discipline: r.s("discipline")?,
                maturity: r.s("maturity")?,
                institution: r.s("institution")?,
                location: r.s("inst_location")?,
                status: r.s("status")?,
            })
        })
        .transpose()
    }

    /// The text a problem is matched by: its title, keywords and description, one space apart (the
    /// line `xietong match` takes for the same need).
    pub fn problem_query(p: &TechProblem) -> String {
        query_of(&[&p.title, &p.keywords.join(" "), &p.description]).replace('\n', " ")
    }

    /// The matches of problem `p` (one the asking user may read) from the lists [`rank_need`] gave:
    /// each explained from the database. The docking signals (discipline ↔ industry, shared keywords,
    /// maturity ↔ mode, location) are shown beside each match but do not move it: the needs benchmark
    /// has no evidence that they help, so none of them ranks. A match below the relevance threshold
    /// is counted as withheld, not listed.
    pub async fn explain_problem_matches(&self, p: &TechProblem, ranked: Ranking, semantic: bool) -> Result<Matches> {
        let industry = (p.industry_code.clone().unwrap_or_default(), p.industry_name.clone().unwrap_or_default());
        let Ranking { achievements: ranked, experts: ranked_experts } = ranked;
        let mut achievements = vec![];
        let mut withheld_achievements = 0;
        for h in ranked {
            if !h.offered {
                withheld_achievements += 1;
                continue;
            }
            let Some(a) = self.achievement_row(None, Some(&h.external_id)).await? else { continue };
            let body = format!("{} {} {}", a.title, a.keywords.join(" "), a.abstract_text);
            let notes = [
                industry_fit(&a.discipline, &industry.0, &industry.1),
                keywords_note(&p.keywords, &body),
                (!p.cooperation_mode.is_empty()).then(|| mode_fit(&a.maturity, &p.cooperation_mode)).and_then(fit_note),
                location_fit(&a.location, &p.enterprise_location),
            ];
            let sub = [a.institution.as_str(), a.discipline.as_str(), a.maturity.as_str(), a.external_id.as_str()]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" · ");
            achievements.push(explained("achievement", a.id, a.title, sub, h, notes, achievements.len()));
        }

        let mut expert_matches = vec![];
        let mut withheld_experts = 0;
        for h in ranked_experts {
            let Ok(id) = h.external_id.parse::<i64>() else { continue };
            // The index may trail the database by a change: an expert no longer published is skipped.
            let Some(x) = self.published_expert(id).await? else { continue };
            if !h.offered {
                withheld_experts += 1;
                continue;
            }
            let body = format!("{} {} {}", x.fields, x.keywords.join(" "), x.disciplines.join(" "));
            let notes = [
                x.disciplines.iter().find_map(|d| industry_fit(d, &industry.0, &industry.1)),
                keywords_note(&p.keywords, &body),
                None,
                location_fit(&x.institution_location, &p.enterprise_location),
            ];
            let sub = format!("{} · {} · {}", x.institution_name, x.title, x.disciplines.join("、"));
            expert_matches.push(explained("expert", x.id, x.name.clone(), sub, h, notes, expert_matches.len()));
        }
        Ok(Matches {
            achievements,
            experts: expert_matches,
            problems: vec![],
            enterprises: vec![],
            semantic,
            withheld_achievements,
            withheld_experts,
        })
    }

    /// The search documents of experts: their fields and keywords, plus their linked achievements.
    pub(crate) async fn expert_docs(&self, experts: &[Expert]) -> Result<Vec<AchievementDoc>> {
        let mut docs = vec![];
        for x in experts {
            let mut text = x.fields.clone();
            for a in &x.achievement_ids {
                if let Some(r) = self.achievement_row(Some(*a), None).await? {
                    text.push('\n');
                    text.push_str(&r.title);
                }
            }
            docs.push(AchievementDoc {
                external_id: x.id.to_string(),
                title: format!("{} {}", x.name, x.fields.chars().take(60).collect::<String>()),
                abstract_text: text,
                keywords: x.keywords.clone(),
                discipline: x.disciplines.first().cloned().unwrap_or_default(),
                category: String::new(),
                maturity: None,
                location: None,
            });
        }
        Ok(docs)
    }

    /// Published problems this user may see in match results: those the user may read at all.
    async fn matchable_problems(&self, u: &SessionUser) -> Result<Vec<TechProblem>> {
        let mut list = self.list_problems_for(u, Some(xietong_docking::review::ReviewStatus::Published)).await?;
        list.sort_by_key(|p| p.id);
        Ok(list)
    }

    /// For an achievement: problems it could solve and enterprises that could use it.
    /// `problems` is this node's index of the published problems (None: built for this request).
    pub async fn match_achievement(
        &self,
        u: &SessionUser,
        problems: Option<&MatchIndex>,
        achievement_id: i64,
        top: usize,
    ) -> Result<Matches> {
        let a = self
            .achievement_row(Some(achievement_id), None)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("成果库中没有编号 {achievement_id} 的成果")))?;
        if a.status != "published" && !reads_all(u) {
            return Err(StoreError::NotFound(format!("成果 {achievement_id} 尚未发布")));
        }
        may_match(u)?;
        let top = top.clamp(1, 50);
        let kw = a.keywords.join(" ");
        let q = query_of(&[&a.title, &kw, &a.abstract_text]);
        let body = format!("{} {} {}", a.title, kw, a.abstract_text);

        let readable = self.matchable_problems(u).await?;
        let (disciplines, maturity) = ([a.discipline.as_str()], Some(a.maturity.as_str()));
        let from = Readable { index: problems, problems: &readable };
        let problem_matches = rank_problems(from, &q, &body, &disciplines, maturity, &a.location, top)?;
        let enterprises = self.match_enterprises(&a.discipline, &a.location, &q, &readable, top).await?;
        Ok(Matches { problems: problem_matches, enterprises, ..Matches::none() })
    }

    /// Enterprises for a discipline and text: those whose industry fits, and those whose posted
    /// problems or industry share words with the text.
    async fn match_enterprises(
        &self,
        discipline: &str,
        location: &str,
        q: &str,
        problems: &[TechProblem],
        top: usize,
    ) -> Result<Vec<Match>> {
        let list = self.list_enterprises(None, chrono::NaiveDate::MAX).await?;
        let docs: Vec<AchievementDoc> = list
            .iter()
            .map(|e| {
                let posted: Vec<&str> =
                    problems.iter().filter(|p| p.enterprise_id == e.id).map(|p| p.title.as_str()).collect();
                AchievementDoc {
                    external_id: e.id.to_string(),
                    title: e.name.clone(),
                    abstract_text: format!("{} {}", e.industry_name.clone().unwrap_or_default(), posted.join(" ")),
                    keywords: vec![],
                    discipline: e.industry_name.clone().unwrap_or_default(),
                    category: String::new(),
                    maturity: None,
                    location: None,
                }
            })
            .collect();
        let hits = search_in_ram(&docs, q, CANDIDATES)?;
        let rel = relative(&hits.iter().map(|h| h.score).collect::<Vec<_>>());
        let mut cands = vec![];
        for e in &list {
            let code = e.industry_code.clone().unwrap_or_default();
            let name = e.industry_name.clone().unwrap_or_default();
            let fit = industry_fit(discipline, &code, &name);
            let hit = hits.iter().zip(&rel).find(|(h, _)| h.external_id == e.id.to_string());
            if fit.is_none() && hit.is_none() {
                continue;
            }
            let s = Signals {
                text: hit.map(|(_, r)| *r).unwrap_or(0.0),
                matched_terms: hit.map(|(h, _)| h.matched_terms.clone()).unwrap_or_default(),
                industry: fit,
                shared_keywords: vec![],
                mode: None,
                location: location_fit(location, &e.location),
            };
            let sub = format!("{} {} · {}", code, name, e.location);
            cands.push(((e.id, e.name.clone(), sub, s.matched_terms.clone(), vec![]), s));
        }
        Ok(finish("enterprise", matching::rank(cands, &Weights::default(), top)))
    }

    /// For an expert: published problems in their fields.
    /// `problems` as for [`Db::match_achievement`].
    pub async fn match_expert(
        &self,
        u: &SessionUser,
        problems: Option<&MatchIndex>,
        expert_id: i64,
        top: usize,
    ) -> Result<Matches> {
        let x = self
            .list_experts_for(u, None)
            .await?
            .into_iter()
            .find(|x| x.id == expert_id)
            .ok_or_else(|| StoreError::NotFound(format!("专家库中没有编号 {expert_id} 的专家，或您无权查看")))?;
        may_match(u)?;
        let kw = x.keywords.join(" ");
        let disc = x.disciplines.join(" ");
        let q = query_of(&[&x.fields, &kw, &disc]);
        let body = format!("{} {} {}", x.fields, kw, disc);
        let disciplines: Vec<&str> = x.disciplines.iter().map(String::as_str).collect();
        let readable = self.matchable_problems(u).await?;
        let problems = rank_problems(
            Readable { index: problems, problems: &readable },
            &q,
            &body,
            &disciplines,
            None,
            &x.institution_location,
            top.clamp(1, 50),
        )?;
        Ok(Matches { problems, ..Matches::none() })
    }
}
