//! Explained matching across the libraries: for a problem, achievements and experts; for an
//! achievement, problems and enterprises; for an expert, problems. Text relevance comes from the
//! jieba + tantivy index (the achievements index on disk; small in-memory indexes of the other
//! libraries, built per request from the database); `xietong_docking::matching` adds the
//! structured signals and writes the reasons.

use serde::Serialize;
use xietong_docking::matching::{
    self, Signals, Weights, industry_fit, location_fit, mode_fit, relative, shared_keywords,
};
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
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Matches {
    pub achievements: Vec<Match>,
    pub experts: Vec<Match>,
    pub problems: Vec<Match>,
    pub enterprises: Vec<Match>,
}

fn search_err(e: SearchError) -> StoreError {
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

/// Problems for a text (an achievement's or an expert's): relevance, then discipline ↔ industry
/// for any of `disciplines`, the problem's keywords found in `body`, the achievement's `maturity`
/// against the wanted mode (when there is an achievement), and location.
fn rank_problems(
    problems: &[TechProblem],
    q: &str,
    body: &str,
    disciplines: &[&str],
    maturity: Option<&str>,
    location: &str,
    top: usize,
) -> Result<Vec<Match>> {
    let docs: Vec<AchievementDoc> = problems.iter().map(problem_doc).collect();
    let hits = search_in_ram(&docs, q, CANDIDATES)?;
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

fn problem_doc(p: &TechProblem) -> AchievementDoc {
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

    /// For a technical problem: the best achievements (from the achievements index) and experts.
    pub async fn match_problem(
        &self,
        u: &SessionUser,
        index: &MatchIndex,
        problem_id: i64,
        top: usize,
    ) -> Result<Matches> {
        let p = self.get_tech_problem(u, problem_id).await?;
        let top = top.clamp(1, 50);
        let w = Weights::default();
        let kw = p.keywords.join(" ");
        let q = query_of(&[&p.title, &kw, &p.description]);
        let industry = (p.industry_code.clone().unwrap_or_default(), p.industry_name.clone().unwrap_or_default());

        let hits = index.search(&q, CANDIDATES, &MatchOptions::default()).map_err(search_err)?;
        let rel = relative(&hits.iter().map(|h| h.score).collect::<Vec<_>>());
        let mut cands = vec![];
        for (h, text) in hits.iter().zip(rel) {
            let Some(a) = self.achievement_row(None, Some(&h.external_id)).await? else { continue };
            let body = format!("{} {} {}", a.title, a.keywords.join(" "), a.abstract_text);
            let s = Signals {
                text,
                matched_terms: h.matched_terms.clone(),
                industry: industry_fit(&a.discipline, &industry.0, &industry.1),
                shared_keywords: shared_keywords(&p.keywords, &body),
                mode: (!p.cooperation_mode.is_empty()).then(|| mode_fit(&a.maturity, &p.cooperation_mode)),
                location: location_fit(&a.location, &p.enterprise_location),
            };
            let sub = [a.institution.as_str(), a.discipline.as_str(), a.maturity.as_str(), a.external_id.as_str()]
                .iter()
                .filter(|x| !x.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" · ");
            cands.push(((a.id, a.title, sub, h.matched_terms.clone(), h.reasons_zh.clone()), s));
        }
        let achievements = finish("achievement", matching::rank(cands, &w, top));

        let experts = self.published_experts().await?;
        let docs = self.expert_docs(&experts).await?;
        let hits = search_in_ram(&docs, &q, CANDIDATES)?;
        let rel = relative(&hits.iter().map(|h| h.score).collect::<Vec<_>>());
        let mut cands = vec![];
        for (h, text) in hits.iter().zip(rel) {
            let Some(x) = experts.iter().find(|x| x.id.to_string() == h.external_id) else { continue };
            let body = format!("{} {} {}", x.fields, x.keywords.join(" "), x.disciplines.join(" "));
            let s = Signals {
                text,
                matched_terms: h.matched_terms.clone(),
                industry: x.disciplines.iter().find_map(|d| industry_fit(d, &industry.0, &industry.1)),
                shared_keywords: shared_keywords(&p.keywords, &body),
                mode: None,
                location: location_fit(&x.institution_location, &p.enterprise_location),
            };
            let sub = format!("{} · {} · {}", x.institution_name, x.title, x.disciplines.join("、"));
            cands.push(((x.id, x.name.clone(), sub, h.matched_terms.clone(), vec![]), s));
        }
        let experts = finish("expert", matching::rank(cands, &w, top));
        Ok(Matches { achievements, experts, problems: vec![], enterprises: vec![] })
    }

    /// The search documents of experts: their fields and keywords, plus their linked achievements.
    async fn expert_docs(&self, experts: &[Expert]) -> Result<Vec<AchievementDoc>> {
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
    pub async fn match_achievement(&self, u: &SessionUser, achievement_id: i64, top: usize) -> Result<Matches> {
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

        let problems = self.matchable_problems(u).await?;
        let problem_matches =
            rank_problems(&problems, &q, &body, &[a.discipline.as_str()], Some(&a.maturity), &a.location, top)?;
        let enterprises = self.match_enterprises(&a.discipline, &a.location, &q, &problems, top).await?;
        Ok(Matches { achievements: vec![], experts: vec![], problems: problem_matches, enterprises })
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
    pub async fn match_expert(&self, u: &SessionUser, expert_id: i64, top: usize) -> Result<Matches> {
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
        let problems = rank_problems(
            &self.matchable_problems(u).await?,
            &q,
            &body,
            &disciplines,
            None,
            &x.institution_location,
            top.clamp(1, 50),
        )?;
        Ok(Matches { achievements: vec![], experts: vec![], problems, enterprises: vec![] })
    }
}
