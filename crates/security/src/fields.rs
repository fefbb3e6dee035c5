//! Sensitive fields at rest (phone numbers, ID numbers): SM4 in GCM mode (RFC 8998), with a fresh
//! 96-bit nonce per value, and masking (脱敏) for readers who do not need the whole value.
//!
//! A stored value reads `sm4:<key id>:<hex of nonce ‖ ciphertext ‖ tag>`. Keys come from
//! configuration with an id each; the newest encrypts, every configured one decrypts, so a key is
//! rotated by adding a new one, re-encrypting (`xietong rekey`), then dropping the old one. A value
//! without the prefix is a plaintext row from before encryption and is returned as it is.

use aes_gcm::AesGcm;
use aes_gcm::aead::{Aead, KeyInit};
use rand::RngCore;
use sm4::Sm4;

/// GCM over SM4 (the same mode as AES-GCM, with the 国密 block cipher: RFC 8998).
type Sm4Gcm = AesGcm<Sm4, aes_gcm::aead::consts::U12>;

const PREFIX: &str = "sm4:";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    #[error("SM4 密钥配置无效：{0}")]
    Key(String),
    #[error("加密字段无法解密（密钥 {0} 未配置或数据被改动）")]
    Decrypt(String),
}

/// The configured keys; the last one encrypts.
#[derive(Clone)]
pub struct FieldCipher {
    keys: Vec<(String, Sm4Gcm)>,
}

impl std::fmt::Debug for FieldCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("FieldCipher")
            .field("key_ids", &self.keys.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

impl FieldCipher {
    /// Keys as `id:hex32` items separated by commas, oldest first (e.g. `1:00112233…,2:…`).
    pub fn from_config(spec: &str) -> Result<FieldCipher, FieldError> {
        let mut keys = vec![];
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (id, hexkey) =
                item.split_once(':').ok_or_else(|| FieldError::Key("每项应为 编号:32位十六进制".into()))?;
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(FieldError::Key(format!("密钥编号「{id}」只能含字母和数字")));
            }
            let bytes = hex::decode(hexkey.trim()).map_err(|_| FieldError::Key(format!("密钥 {id} 不是十六进制")))?;
            if bytes.len() != 16 {
                return Err(FieldError::Key(format!(
                    "密钥 {id} 应为 16 字节（32 位十六进制），实为 {} 字节",
                    bytes.len()
                )));
            }
            if keys.iter().any(|(k, _)| k == id) {
                return Err(FieldError::Key(format!("密钥编号 {id} 重复")));
            }
            let cipher = Sm4Gcm::new_from_slice(&bytes).map_err(|e| FieldError::Key(e.to_string()))?;
            keys.push((id.to_string(), cipher));
        }
        if keys.is_empty() {
            return Err(FieldError::Key("至少需要一个密钥".into()));
        }
        Ok(FieldCipher { keys })
    }

    /// A new random key in the configuration form, for a first start.
    pub fn generate_spec(id: &str) -> String {
        let mut k = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut k);
        format!("{id}:{}", hex::encode(k))
    }

    pub fn current_key_id(&self) -> &str {
        &self.keys.last().expect("at least one key").0
    }

    /// Encrypt a value; an empty value stays empty (nothing to hide, and lists can tell it apart).
    pub fn seal(&self, plaintext: &str) -> String {
        if plaintext.is_empty() {
            return String::new();
        }
        let (id, cipher) = self.keys.last().expect("at least one key");
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption of a short string with a valid key cannot fail.
        let ct = cipher.encrypt((&nonce).into(), plaintext.as_bytes()).unwrap_or_default();
        format!("{PREFIX}{id}:{}{}", hex::encode(nonce), hex::encode(ct))
    }

    /// Decrypt a stored value (a plaintext row is returned as it is).
    pub fn open(&self, stored: &str) -> Result<String, FieldError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let (id, body) = rest.split_once(':').ok_or_else(|| FieldError::Decrypt("?".into()))?;
        let cipher = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, c)| c)
            .ok_or_else(|| FieldError::Decrypt(id.to_string()))?;
        let bytes = hex::decode(body).map_err(|_| FieldError::Decrypt(id.to_string()))?;
        if bytes.len() < 12 + 16 {
            return Err(FieldError::Decrypt(id.to_string()));
        }
        let (nonce, ct) = bytes.split_at(12);
        let pt = cipher.decrypt(nonce.into(), ct).map_err(|_| FieldError::Decrypt(id.to_string()))?;
        String::from_utf8(pt).map_err(|_| FieldError::Decrypt(id.to_string()))
    }

    /// Whether a stored value is encrypted under a key other than the current one (to re-encrypt).
    pub fn is_stale(&self, stored: &str) -> bool {
        !stored.is_empty() && !stored.starts_with(&format!("{PREFIX}{}:", self.current_key_id()))
    }
}

/// 脱敏: a phone number keeps its first 3 and last 4 digits (`138****5678`, `037****0001`);
/// anything shorter keeps only its last character.
pub fn mask_phone(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    let n = chars.len();
    if n == 0 {
        return String::new();
    }
    if n < 8 {
        return format!("{}{}", "*".repeat(n - 1), chars[n - 1]);
    }
    format!(
        "{}{}{}",
        chars[..3].iter().collect::<String>(),
        "*".repeat(n - 7),
        chars[n - 4..].iter().collect::<String>()
    )
}

/// 脱敏 of an 18-character ID number: first 6 and last 4 (`410103********123X`).
pub fn mask_id_number(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() < 11 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    format!(
        "{}{}{}",
        chars[..6].iter().collect::<String>(),
        "*".repeat(n - 10),
        chars[n - 4..].iter().collect::<String>()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// RFC 8998, Appendix A.1: SM4-GCM known answer.
    #[test]
    fn sm4_gcm_matches_rfc_8998() {
        let key = hex::decode("0123456789ABCDEFFEDCBA9876543210").unwrap();
        let nonce = hex::decode("00001234567800000000ABCD").unwrap();
        let aad = hex::decode("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2").unwrap();
        let pt = hex::decode("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA").unwrap();
        let cipher = Sm4Gcm::new_from_slice(&key).unwrap();
        let out = cipher.encrypt(nonce.as_slice().into(), aes_gcm::aead::Payload { msg: &pt, aad: &aad }).unwrap();
        let (ct, tag) = out.split_at(pt.len());
        assert_eq!(
            hex::encode_upper(ct),
            "17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D"
        );
        assert_eq!(hex::encode_upper(tag), "83DE3541E4C2B58177E065A9BF7B62EC");
    }

    #[test]
    fn sealed_values_open_and_do_not_show_the_plaintext() {
        let c = FieldCipher::from_config(&FieldCipher::generate_spec("1")).unwrap();
        let s = c.seal("0371-60000001");
        assert!(s.starts_with("sm4:1:") && !s.contains("0371"));
        assert_ne!(s, c.seal("0371-60000001"), "a fresh nonce every time");
        assert_eq!(c.open(&s).unwrap(), "0371-60000001");
        assert_eq!(c.open("13800000000").unwrap(), "13800000000", "a plaintext row from before");
        assert_eq!(c.seal(""), "");
        // A changed byte fails the tag.
        let mut bad = s.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
        assert!(c.open(&String::from_utf8(bad).unwrap()).is_err());
    }

    #[test]
    fn keys_rotate_by_adding_a_new_one() {
        let old = FieldCipher::generate_spec("1");
        let a = FieldCipher::from_config(&old).unwrap();
        let sealed = a.seal("13912345678");
        let b = FieldCipher::from_config(&format!("{old},{}", FieldCipher::generate_spec("2"))).unwrap();
        assert_eq!(b.current_key_id(), "2");
        assert_eq!(b.open(&sealed).unwrap(), "13912345678");
        assert!(b.is_stale(&sealed) && !b.is_stale(&b.seal("x")));
        let c = FieldCipher::from_config(&FieldCipher::generate_spec("2")).unwrap();
        assert_eq!(c.open(&sealed).unwrap_err(), FieldError::Decrypt("1".into()), "a dropped key cannot read its rows");
        assert!(FieldCipher::from_config("1:abcd").is_err());
        assert!(FieldCipher::from_config("").is_err());
        assert!(
            format!("{b:?}").contains("key_ids") && !format!("{b:?}").contains(&old[2..]),
            "keys are never printed"
        );
    }

    #[test]
    fn masks() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0371-60000001"), "037******0001");
        assert_eq!(mask_phone("12345"), "****5");
        assert_eq!(mask_id_number("41010319900101123X"), "410103********123X");
    }

    proptest! {
        #[test]
        fn any_text_round_trips(v in "\\PC{0,60}") {
            let c = FieldCipher::from_config("k1:000102030405060708090a0b0c0d0e0f").unwrap();
            prop_assert_eq!(c.open(&c.seal(&v)).unwrap(), v);
        }

        #[test]
        fn masks_keep_the_length_and_hide_the_middle(v in "[0-9]{8,20}") {
            let m = mask_phone(&v);
            prop_assert_eq!(m.chars().count(), v.chars().count());
            prop_assert!(m.contains('*'));
        }
    }
}
