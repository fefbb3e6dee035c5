//! The `xietong` binary as an administrator uses it.

use std::process::Command;

fn xietong(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xietong"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("XIETONG_DATABASE_URL")
        .env_remove("XIETONG_SM4_KEYS")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn calendar_due_prints_the_due_time_then_any_flag() {
    let dir = tempfile::tempdir().unwrap();
    let o = xietong(dir.path(), &["calendar", "due", "--from", "2026-09-30 17:00", "--working-hours", "2"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "2026-10-08 10:00\n", "National Day holiday skipped, no flag");
    let o = xietong(dir.path(), &["calendar", "due", "--from", "2026-12-31 17:00", "--working-hours", "2"]);
    assert_eq!(stdout(&o), "2027-01-01 10:00\n暂定：2027 年节假日安排尚未发布，按普通周末计算\n");
    // 调休: Sunday 2026-09-20 is a working day.
    let o = xietong(dir.path(), &["calendar", "due", "--from", "2026-09-19 10:00", "--working-hours", "1"]);
    assert_eq!(stdout(&o), "2026-09-20 10:00\n");
    let o = xietong(dir.path(), &["calendar", "due", "--from", "2026-02-30 10:00", "--working-hours", "1"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--from"), "the error names the argument");
}

#[test]
fn audit_verify_exits_non_zero_naming_the_first_bad_entry() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let o = xietong(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("校验通过"));
    // Edit one stored row behind the application's back.
    let url = format!("sqlite://{}", dir.path().join("xietong.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        use sqlx::{Connection, Executor};
        let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
        c.execute("DROP TRIGGER audit_log_no_update").await.unwrap();
        c.execute("UPDATE audit_log SET after = '{}' WHERE seq = 17").await.unwrap();
    });
    let o = xietong(dir.path(), &["audit", "verify"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("第 17 条"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn backup_copies_the_database_while_it_is_open() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let out = dir.path().join("backup.db");
    let o = xietong(dir.path(), &["backup", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The copy is a complete database: its audit chain verifies on its own.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&out, restored.path().join("xietong.db")).unwrap();
    let o = xietong(restored.path(), &["audit", "verify"]);
    assert!(o.status.success());
    // Refuses to overwrite.
    assert!(!xietong(dir.path(), &["backup", "--out", out.to_str().unwrap()]).status.success());
}

#[test]
fn backup_copies_the_attachments_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let blob = dir.path().join("attachments/sha256/ab/abcdef");
    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"%PDF-1.4 evidence").unwrap();
    let out = dir.path().join("backup.db");
    let o = xietong(dir.path(), &["backup", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let copied = dir.path().join("backup.db.attachments/sha256/ab/abcdef");
    assert_eq!(std::fs::read(copied).unwrap(), b"%PDF-1.4 evidence");
}

#[test]
fn attachments_gc_deletes_only_old_files_no_record_names() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let named = "aa".repeat(32);
    let orphan = "bb".repeat(32);
    let blob = |h: &str| dir.path().join(format!("attachments/sha256/{}/{h}", &h[..2]));
    let thumb = dir.path().join(format!("attachments/thumbs/bb/{orphan}.jpg"));
    for p in [blob(&named), blob(&orphan), thumb.clone()] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"bytes").unwrap();
    }
    // A row names the first file (as an upload's transaction would).
    let url = format!("sqlite://{}", dir.path().join("xietong.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        use sqlx::Connection;
        let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
        let task: i64 =
            sqlx::Row::get(&sqlx::query("SELECT MIN(id) AS id FROM tasks").fetch_one(&mut c).await.unwrap(), "id");
        sqlx::query(
            "INSERT INTO attachments (sha256, size, mime, original_name, record_kind, record_id, task_id, uploaded_at) \
             VALUES ($1, 5, 'application/pdf', 'a.pdf', 'task', $2, $2, '2026-11-23 10:00:00')",
        )
        .bind(&named)
        .bind(task)
        .execute(&mut c)
        .await
        .unwrap();
    });
    // Young files are kept whatever names them: an upload may be about to be named.
    let o = xietong(dir.path(), &["attachments-gc"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("删除 0 个"), "{}", stdout(&o));
    let o = xietong(dir.path(), &["attachments-gc", "--older-than-hours", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("保留 1 个文件，删除 2 个"), "{}", stdout(&o));
    assert!(blob(&named).exists());
    assert!(!blob(&orphan).exists() && !thumb.exists());
}

#[test]
fn init_admin_creates_the_first_account_once() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("init-admin")
        .env_remove("XIETONG_ADMIN_PASSWORD")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let password =
        out.lines().find(|l| l.starts_with("初始密码")).and_then(|l| l.split('：').nth(1)).unwrap().trim().to_string();
    assert_eq!(password.chars().count(), 16);
    // A second run refuses: the database is no longer empty.
    let o = xietong(dir.path(), &["init-admin"]);
    assert!(!o.status.success());
    // A weak password from the environment is refused.
    let dir2 = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_xietong"))
        .arg("--data-dir")
        .arg(dir2.path())
        .arg("init-admin")
        .env("XIETONG_ADMIN_PASSWORD", "123")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("密码"));
}

#[test]
fn import_achievements_keeps_external_ids_and_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.tsv");
    std::fs::write(
        &good,
        "id\ttitle\tabstract\tkeywords\tdiscipline\tcategory\n\
         P1\t尼龙复合材料的制备\t以尼龙为基体制备复合材料并测试其力学性能。\t尼龙;复合材料\t材料科学与工程\t工学\n\
         P2\t农产品追溯系统设计\t设计基于二维码的农产品质量追溯系统。\t追溯;农产品\t计算机科学与技术\t工学\n",
    )
    .unwrap();
    let o = xietong(dir.path(), &["import", "achievements", "--file", good.to_str().unwrap(), "--source", "测试"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "已导入 2 项成果\n");
    // The same ids again, and a file with a bad row: refused, naming rows and columns.
    let o = xietong(dir.path(), &["import", "achievements", "--file", good.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("第 2 行「id」：「P1」已在成果库中") && err.contains("第 3 行"), "{err}");
    let bad = dir.path().join("bad.tsv");
    std::fs::write(&bad, "id\ttitle\tabstract\tkeywords\tdiscipline\tcategory\nP3\t标题\t摘要\t\t\t\nP4\t\t摘要\t\t\t\nP3\t重复\t摘要\t\t\t\n").unwrap();
    let o = xietong(dir.path(), &["import", "achievements", "--file", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("第 3 行「title」：不能为空") && err.contains("第 4 行「id」：「P3」与第 2 行重复"), "{err}");
    let o =
        xietong(dir.path(), &["import", "achievements", "--file", dir.path().join("missing.tsv").to_str().unwrap()]);
    assert!(!o.status.success());
    // Nothing from the refused files was written: P3 can still be imported.
    std::fs::write(&bad, "id\ttitle\tabstract\nP3\t标题\t摘要\n").unwrap();
    let o = xietong(dir.path(), &["import", "achievements", "--file", bad.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn import_enterprises_checks_credit_codes_and_industries() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("e.csv");
    let header = "企业名称,统一社会信用代码,行业代码,所在镇街/园区,资质,联系人,联系电话\n";
    // Row 2 good; row 3 a mistyped check character; row 4 an unknown industry; row 5 高新 without expiry.
    std::fs::write(
        &f,
        format!(
            "{header}二七测试食品有限公司,91350100M000100Y43,C1441,二七经开区,国家高新技术企业|GR202341000001|2026-12-31；专精特新,联系人（示例）,0371-00000000\n\
             另一家公司,91350100M000100Y44,C1441,,,,\n\
             第三家公司,91350100M000100Y43,Z9999,,,,\n\
             第四家公司,91350100M000100Y43,C1441,,国家高新技术企业|GR1,,\n"
        ),
    )
    .unwrap();
    let o = xietong(dir.path(), &["import", "enterprises", "--file", f.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("第 3 行「统一社会信用代码」：校验位错误"), "{err}");
    assert!(err.contains("第 4 行「行业代码」：「Z9999」不是 GB/T 4754-2017 中的代码"), "{err}");
    assert!(err.contains("第 5 行「资质」"), "{err}");
    std::fs::write(&f, format!("{header}二七测试食品有限公司,91350100M000100Y43,C1441,二七经开区,国家高新技术企业|GR202341000001|2026-12-31,,\n")).unwrap();
    let o = xietong(dir.path(), &["import", "enterprises", "--file", f.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stdout(&o), "已导入 1 家企业\n", "the refused file wrote nothing, so this one goes in whole");
}

#[test]
fn match_prints_a_trec_run_from_an_index_rebuilt_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("a.tsv");
    std::fs::write(
        &f,
        "id\ttitle\tabstract\tkeywords\tdiscipline\tcategory\n\
         N1\t尼龙复合材料的界面改性\t以尼龙六六为基体，研究玻璃纤维增强复合材料的界面改性方法。\t\t材料科学与工程\t工学\n\
         N2\t农产品质量追溯系统\t设计基于二维码的农产品质量追溯系统，实现生产流通全程可查。\t\t计算机科学与技术\t工学\n\
         N3\t水库大坝渗流监测\t针对土石坝渗流问题，提出一种分布式光纤监测方法。\t\t水利工程\t工学\n",
    )
    .unwrap();
    assert!(xietong(dir.path(), &["import", "achievements", "--file", f.to_str().unwrap()]).status.success());
    let q = dir.path().join("q.tsv");
    std::fs::write(&q, "q1\t尼龙 复合材料\nq2\t农产品 追溯\n").unwrap();
    let o = xietong(
        dir.path(),
        &["match", "--target", "achievements", "--queries", q.to_str().unwrap(), "--top", "2", "--format", "trec"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = stdout(&o);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split(' ').collect()).collect();
    assert!(lines.iter().all(|l| l.len() == 6 && l[1] == "Q0" && l[5] == "xietong"), "{out}");
    assert_eq!((lines[0][0], lines[0][2], lines[0][3]), ("q1", "N1", "1"));
    assert!(lines.iter().any(|l| l[0] == "q2" && l[2] == "N2" && l[3] == "1"), "{out}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("检索索引已按数据库重建"), "the first run builds the index");
    // A second run reuses the index; a new import makes it stale and it is rebuilt.
    let o = xietong(dir.path(), &["match", "--target", "achievements", "--queries", q.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("重建"));
    std::fs::write(&f, "id\ttitle\tabstract\nN4\t尼龙回收利用\t废旧尼龙的化学回收。\n").unwrap();
    assert!(xietong(dir.path(), &["import", "achievements", "--file", f.to_str().unwrap()]).status.success());
    let o = xietong(dir.path(), &["match", "--target", "achievements", "--queries", q.to_str().unwrap(), "--baseline"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("4 项成果"));
    assert!(stdout(&o).lines().all(|l| l.ends_with(" bm25")));
    // Bad query lines are all named, and nothing runs.
    std::fs::write(&q, format!("q1\t\nq 2\t尼龙\nq3\t{}\n", "长".repeat(2001))).unwrap();
    let o = xietong(dir.path(), &["match", "--target", "achievements", "--queries", q.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("第 1 行：查询内容不能为空")
            && err.contains("第 2 行")
            && err.contains("第 3 行：查询内容不能超过"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn problems_are_imported_reviewed_and_matched_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let f = dir.path().join("p.tsv");
    let header = "企业名称\t难题名称\t难题描述\t关键词\t行业代码\t预算（万元）\t合作方式\t期望解决日期\t是否保密\n";
    // Row 3 names an enterprise outside the 企业库; row 4 has a budget that is not a number.
    std::fs::write(
        &f,
        format!(
            "{header}花花牛\t乳清蛋白饮料热稳定性\t高温灭菌后乳清蛋白饮料出现沉淀，需要改善热稳定性。\t乳清蛋白\t\t30\t合作开发\t\t否\n\
             不存在的企业\t某难题\t这是一个足够长的难题描述文字。\t\t\t\t\t\t\n\
             仝吉\t面包老化\t面包储存两天后明显变硬，希望延缓淀粉回生。\t\t\t三十\t\t\t\n"
        ),
    )
    .unwrap();
    let o = xietong(dir.path(), &["import", "problems", "--file", f.to_str().unwrap(), "--as", "kejiju"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("第 3 行「企业名称」：「不存在的企业」不在企业库中"), "{err}");
    assert!(err.contains("第 4 行「预算（万元）」"), "{err}");
    let o = xietong(dir.path(), &["import", "problems", "--file", f.to_str().unwrap(), "--as", "qiye"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("由科技局办理"),
        "an enterprise account cannot import for others"
    );
    std::fs::write(&f, format!("{header}花花牛\t乳清蛋白饮料热稳定性\t高温灭菌后乳清蛋白饮料出现沉淀，需要改善热稳定性。\t乳清蛋白\t\t30\t合作开发\t\t否\n")).unwrap();
    let o = xietong(dir.path(), &["import", "problems", "--file", f.to_str().unwrap(), "--as", "kejiju"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let queue = stdout(&xietong(dir.path(), &["docking", "list", "reviews", "--as", "kejiju"]));
    let line = queue.lines().find(|l| l.contains("乳清蛋白饮料热稳定性")).expect("in the review queue");
    let id = line.split('\t').nth(1).unwrap().to_string();
    for action in ["pass_formal", "approve"] {
        let o = xietong(
            dir.path(),
            &["docking", "review", "--library", "problem", "--id", &id, "--action", action, "--as", "kejiju"],
        );
        assert!(o.status.success(), "{action}: {}", String::from_utf8_lossy(&o.stderr));
    }
    let m = stdout(&xietong(
        dir.path(),
        &["docking", "match", "--of", "problem", "--id", &id, "--top", "3", "--as", "kejiju"],
    ));
    let first = m.lines().nth(1).expect("a match");
    assert!(first.starts_with("achievement\t1\t") && first.contains("乳清蛋白"), "{m}");
    let o = xietong(dir.path(), &["docking", "list", "contracts", "--as", "qiye"]);
    assert!(!o.status.success(), "statistics are the district's");
    let stats = stdout(&xietong(dir.path(), &["stats"]));
    assert!(
        stats.contains(
            "国家高新技术企业\t在库 1 家\t在库 1 家，上报 101 家（截至 2020-12-31），差 100 家待补录\t来源："
        ),
        "{stats}"
    );
    assert!(stats.contains("其中技术性收入\t在库 ") && stats.contains("尚无上报数"), "{stats}");
    assert!(!stats.contains("占位"), "{stats}");
}

#[test]
fn the_data_directory_keeps_its_sm4_key_and_rekey_rotates() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let keys = dir.path().join("sm4.keys");
    let first = std::fs::read_to_string(&keys).expect("a key file on first start");
    assert!(first.starts_with("1:") && first.trim().len() == 34, "{first}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o600, "owner-only");
    }
    let o = xietong(dir.path(), &["rekey"]);
    assert_eq!(stdout(&o), "已用密钥 1 重新加密 0 个字段值\n", "{}", String::from_utf8_lossy(&o.stderr));
    // Rotation: a second key added last; every stored value moves to it and still reads.
    std::fs::write(&keys, format!("{},2:000102030405060708090a0b0c0d0e0f\n", first.trim())).unwrap();
    let o = xietong(dir.path(), &["rekey"]);
    assert_eq!(
        stdout(&o),
        "已用密钥 2 重新加密 12 个字段值\n",
        "six experts' phone and e-mail: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::write(&keys, "2:000102030405060708090a0b0c0d0e0f\n").unwrap();
    let list = stdout(&xietong(dir.path(), &["docking", "list", "experts", "--as", "kejiju"]));
    assert!(list.contains("0371-60000001"), "readable with the new key alone: {list}");
    let o = xietong(dir.path(), &["--database-url", "postgres://127.0.0.1/none", "stats"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("XIETONG_SM4_KEYS"), "PostgreSQL needs configured keys");
}

/// The server's stderr up to its "listening" line, with `format` as XIETONG_LOG_FORMAT and `args`
/// before `serve`; stderr is a pipe here, as it is under systemd or with `2> file`.
fn server_log(env_format: Option<&str>, args: &[&str]) -> String {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut c = Command::new(env!("CARGO_BIN_EXE_xietong"));
    c.arg("--data-dir").arg(dir.path()).args(args).args(["serve", "--bind", &format!("127.0.0.1:{port}")]);
    c.env_remove("XIETONG_DATABASE_URL").env_remove("XIETONG_SM4_KEYS").env_remove("RUST_LOG");
    c.env_remove("NO_COLOR").env_remove("XIETONG_LOG_FORMAT");
    if let Some(f) = env_format {
        c.env("XIETONG_LOG_FORMAT", f);
    }
    let mut child = c.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut log = String::new();
    // The server exits on its own if it cannot start, which ends the pipe.
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        log.push_str(&line);
        log.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    log
}

#[test]
fn logs_carry_no_colour_codes_into_a_pipe_and_json_lines_parse() {
    let text = server_log(None, &[]);
    assert!(text.contains("INFO") && text.contains("listening on http://127.0.0.1:"), "{text}");
    assert!(!text.contains("\x1b["), "colour codes in a pipe: {text:?}");
    // The flag wins over the environment.
    let text = server_log(Some("json"), &["--log-format", "text"]);
    assert!(!text.contains("\x1b[") && !text.trim_start().starts_with('{'), "{text:?}");

    let json = server_log(Some("json"), &[]);
    assert!(!json.contains("\x1b["), "{json:?}");
    let lines: Vec<serde_json::Value> = json
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let listening = lines
        .iter()
        .find(|v| v["message"].as_str().is_some_and(|m| m.starts_with("xietong listening on http://127.0.0.1:")))
        .unwrap_or_else(|| panic!("no listening line: {json}"));
    assert_eq!(listening["level"], "INFO");
    assert!(listening["timestamp"].is_string() && listening["target"].is_string(), "{listening}");

    let o = xietong(tempfile::tempdir().unwrap().path(), &["--log-format", "xml", "stats"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("xml"), "an unknown format is refused");
}

#[test]
fn restore_puts_a_backup_into_an_empty_data_directory_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let blob = "attachments/sha256/ab/abcdef";
    std::fs::create_dir_all(dir.path().join(blob).parent().unwrap()).unwrap();
    std::fs::write(dir.path().join(blob), b"%PDF-1.4 evidence").unwrap();
    let out = dir.path().join("backup.db");
    assert!(xietong(dir.path(), &["backup", "--out", out.to_str().unwrap()]).status.success());
    let from = ["restore", "--from", out.to_str().unwrap()];

    // Without the keys file the encrypted fields could not be read: refused, nothing written.
    let target = tempfile::tempdir().unwrap();
    let o = xietong(target.path(), &from);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("sm4.keys"));
    assert!(!target.path().join("xietong.db").exists());
    // With it (and a stale write-ahead log lying about), the copy is whole and verified.
    std::fs::copy(dir.path().join("sm4.keys"), target.path().join("sm4.keys")).unwrap();
    std::fs::write(target.path().join("xietong.db-wal"), b"not a log of this database").unwrap();
    let o = xietong(target.path(), &from);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("校验通过"), "{}", stdout(&o));
    assert_eq!(std::fs::read(target.path().join(blob)).unwrap(), b"%PDF-1.4 evidence");
    let experts = stdout(&xietong(target.path(), &["docking", "list", "experts", "--as", "kejiju"]));
    assert!(experts.contains("0371-60000001"), "the phone numbers read with the restored keys: {experts}");
    // Never over existing data.
    let o = xietong(target.path(), &from);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("已存在"));
}

#[test]
fn init_admin_then_the_first_security_and_audit_administrators() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_xietong"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .env_remove("XIETONG_ADMIN_PASSWORD")
            .env_remove("XIETONG_DATABASE_URL")
            .env_remove("XIETONG_SM4_KEYS")
            .output()
            .unwrap()
    };
    // Not before the organisation exists.
    let o = run(&["init-admin", "--role", "security_admin", "--username", "anquan"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("不存在"));
    assert!(run(&["init-admin"]).status.success());
    let o = run(&["init-admin", "--role", "security_admin", "--username", "anquan"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).starts_with("已创建安全管理员账号 anquan（单位：区政府办）"), "{}", stdout(&o));
    assert!(stdout(&o).contains("初始密码"));
    assert!(run(&["init-admin", "--role", "audit_admin", "--username", "shenji"]).status.success());
    // Once each: further administrators are the 安全管理员's to create on the pages.
    let o = run(&["init-admin", "--role", "security_admin", "--username", "anquan2"]);
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("已有安全管理员账号"));
    let o = run(&["init-admin", "--role", "audit_admin", "--username", "x", "--unit", "无此单位"]);
    assert!(!o.status.success());
    let users = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = xietong_storage::Db::open_data_dir(dir.path()).await.unwrap();
        db.list_users().await.unwrap()
    });
    let roles: Vec<(&str, &str, &str)> =
        users.iter().map(|u| (u.username.as_str(), u.role.as_str(), u.unit_name.as_str())).collect();
    assert_eq!(
        roles,
        [
            ("admin", "admin", "区政府办"),
            ("anquan", "security_admin", "区政府办"),
            ("shenji", "audit_admin", "区政府办")
        ]
    );
}

#[test]
fn reindex_rebuilds_the_servers_index_with_progress() {
    let dir = tempfile::tempdir().unwrap();
    assert!(xietong(dir.path(), &["demo"]).status.success());
    let o = xietong(dir.path(), &["reindex"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(err.contains("重建检索索引：330/330 项成果"), "{err}");
    assert!(stdout(&o).contains("检索索引已重建：330 项成果"), "{}", stdout(&o));
    let seq: i64 =
        std::fs::read_to_string(dir.path().join("index/achievements-live.seq")).unwrap().trim().parse().unwrap();
    assert!(seq > 0, "the change log's head is recorded with the index");
}

#[test]
fn a_missing_or_corrupt_model_is_named_and_the_server_serves_on_words() {
    let models = tempfile::tempdir().unwrap();
    let missing = models.path().join("nothing-here");
    let log = server_log(None, &["--model-dir", missing.to_str().unwrap()]);
    assert!(log.contains("listening on"), "the server still starts: {log}");
    assert!(
        log.contains("找不到嵌入模型目录") && log.contains("nothing-here") && log.contains("XIETONG_MODEL_DIR"),
        "{log}"
    );
    for f in ["config.json", "tokenizer.json", "model.safetensors"] {
        std::fs::write(models.path().join(f), "{ 这不是 JSON").unwrap();
    }
    let log = server_log(None, &["--model-dir", models.path().to_str().unwrap()]);
    assert!(log.contains("listening on"), "{log}");
    assert!(log.contains("config.json") && log.contains("已损坏") && log.contains("XIETONG_MODEL_DIR"), "{log}");
}
