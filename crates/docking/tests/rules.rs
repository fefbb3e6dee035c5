//! The docking rules: identifiers with check characters, the pipeline table, contract amounts.

use proptest::prelude::*;
use xietong_docking::codes::{PatentNumber, credit_check_char, credit_code, patent_check_digit, patent_number};
use xietong_docking::contract::{ContractAmounts, ContractType};
use xietong_docking::pipeline::{Stage, check_move};

const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

#[test]
fn published_example_credit_codes_pass() {
    // The worked example of GB 32100-2015 and a code printed on a public business licence.
    assert_eq!(credit_code("91350100M000100Y43").unwrap(), "91350100M000100Y43");
    assert_eq!(credit_code(" 91350100m000100y43 ").unwrap(), "91350100M000100Y43", "spaces and case are forgiven");
}

#[test]
fn look_alike_credit_codes_are_the_same_code() {
    // Full-width characters from a Chinese input method, zero-width characters and a BOM from a
    // pasted page: stored as the one canonical code, so the unique constraint sees one code.
    for v in
        ["９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000\u{200B}100Y43", "\u{FEFF}91350100M000100Y43\u{2060}"]
    {
        assert_eq!(credit_code(v).unwrap(), "91350100M000100Y43", "{v:?}");
    }
    assert_eq!(patent_number("ＺＬ２０２１１０１２３４５６．７").unwrap(), patent_number("ZL202110123456.7").unwrap());
}

#[test]
fn bad_credit_codes_name_the_problem() {
    let e = credit_code("91350100M000100Y4").unwrap_err();
    assert_eq!(e.field, "统一社会信用代码");
    assert!(e.message.contains("18 位"), "{e}");
    let e = credit_code("91350100M000100Y44").unwrap_err();
    assert!(e.message.contains("校验位错误") && e.message.contains("「3」"), "{e}");
    let e = credit_code("91350100M0001O0Y43").unwrap_err();
    assert!(e.message.contains("第 14 位"), "{e}");
    let e = credit_code("9135A100M000100Y43").unwrap_err();
    assert!(e.message.contains("行政区划"), "{e}");
}

fn code_strategy() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!['1', '5', '9', 'Y']),
        prop::collection::vec(0usize..31, 1),
        prop::collection::vec(0u32..10, 6),
        prop::collection::vec(0usize..31, 9),
    )
        .prop_map(|(a, b, d, o)| {
            let mut s = String::new();
            s.push(a);
            s.extend(b.iter().map(|i| CHARS.as_bytes()[*i] as char));
            s.extend(d.iter().map(|x| char::from_digit(*x, 10).unwrap()));
            s.extend(o.iter().map(|i| CHARS.as_bytes()[*i] as char));
            s
        })
}

proptest! {
    #[test]
    fn every_code_with_its_check_char_passes_and_any_single_change_fails(body in code_strategy(), pos in 0usize..18, repl in 0usize..31) {
        let code = format!("{body}{}", credit_check_char(&body).unwrap());
        prop_assert!(credit_code(&code).is_ok(), "{code}");
        let mut chars: Vec<char> = code.chars().collect();
        let new = CHARS.as_bytes()[repl] as char;
        prop_assume!(chars[pos] != new && !(2..8).contains(&pos));
        chars[pos] = new;
        let changed: String = chars.into_iter().collect();
        prop_assert!(credit_code(&changed).is_err(), "{changed} should fail");
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
        let _ = credit_code(&s);
        let _ = patent_number(&s);
    }
}

#[test]
fn patent_numbers() {
    let digits = "202110123456";
    let c = patent_check_digit(digits).unwrap();
    let ok = patent_number(&format!("ZL{digits}.{c}")).unwrap();
    assert_eq!(ok, PatentNumber::Application { number: format!("ZL{digits}.{c}"), kind: "发明" });
    assert_eq!(patent_number(&format!("{digits}.{c}")).unwrap().as_str(), format!("ZL{digits}.{c}"));
    let wrong = if c == '0' { '1' } else { '0' };
    let e = patent_number(&format!("ZL{digits}.{wrong}")).unwrap_err();
    assert!(e.message.contains("校验位错误"), "{e}");
    assert!(patent_number("CN112345678A").is_ok());
    assert!(patent_number("CN2021101234").is_err());
    let e = patent_number("ZL202140123456.1").unwrap_err();
    assert!(e.message.contains("校验位") || e.message.contains("类型"), "{e}");
    assert_eq!(patent_number("").unwrap_err().message, "不能为空");
    // The utility-model type digit is read from position 5.
    let d2 = "202120123456";
    let c2 = patent_check_digit(d2).unwrap();
    assert_eq!(
        patent_number(&format!("{d2}.{c2}")).unwrap(),
        PatentNumber::Application { number: format!("ZL{d2}.{c2}"), kind: "实用新型" }
    );
}

#[test]
fn the_pipeline_moves_one_stage_at_a_time_or_terminates() {
    for s in Stage::ALL {
        for t in Stage::ALL {
            let r = check_move(s, t, true, "原因");
            let expected = !s.is_final() && (t == Stage::Terminated || s.next() == Some(t));
            assert_eq!(r.is_ok(), expected, "{s:?} -> {t:?}: {r:?}");
        }
    }
    let e = check_move(Stage::IntentSigned, Stage::ContractSigned, false, "").unwrap_err();
    assert!(e.0.contains("登记技术合同"), "{e}");
    let e = check_move(Stage::Negotiating, Stage::Terminated, true, "  ").unwrap_err();
    assert!(e.0.contains("原因"));
    let e = check_move(Stage::Recommended, Stage::IntentSigned, true, "").unwrap_err();
    assert!(e.0.contains("意向沟通"), "{e}");
}

#[test]
fn contract_amounts() {
    assert!(ContractAmounts { amount: 120.0, technical_income: 100.0 }.validate().is_ok());
    assert_eq!(
        ContractAmounts { amount: 120.0, technical_income: 130.0 }.validate().unwrap_err().field,
        "技术性收入（万元）"
    );
    assert_eq!(
        ContractAmounts { amount: 0.0, technical_income: 0.0 }.validate().unwrap_err().field,
        "合同金额（万元）"
    );
    assert_eq!(ContractType::from_code("技术许可"), Some(ContractType::License));
}
