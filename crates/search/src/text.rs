//! The one tokenizer of the crate: jieba search mode (tantivy-jieba), words only, lower-cased.
//! The index, the queries, the explanations and the baseline all go through it.

use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer};

/// The name the analyzer is registered under in every index of this crate.
pub const TOKENIZER: &str = "jieba";

/// jieba search mode, then drop tokens that are only punctuation or spaces, drop absurdly long
/// tokens (a pasted base64 blob is no word), lower-case Latin letters.
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new())
        .filter(WordsOnly)
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .build()
}

/// A token worth indexing: it has a letter, a digit or a CJK character.
pub fn is_word(t: &str) -> bool {
    t.chars().any(char::is_alphanumeric)
}

/// The search terms of a text, in order, as the index sees them (jieba search mode, lower-cased,
/// punctuation dropped). Search mode also emits the shorter words inside a long one, so
/// "复合材料" gives "复合", "材料" and "复合材料".
pub fn terms(text: &str) -> Vec<String> {
    let mut a = analyzer();
    let mut s = a.token_stream(text);
    let mut out = vec![];
    while s.advance() {
        out.push(s.token().text.clone());
    }
    out
}

/// Token filter keeping only [`is_word`] tokens: jieba emits punctuation and spaces as tokens,
/// which would only lengthen documents and postings.
#[derive(Clone)]
pub struct WordsOnly;

impl TokenFilter for WordsOnly {
    type Tokenizer<T: Tokenizer> = WordsOnlyWrapper<T>;
    fn transform<T: Tokenizer>(self, inner: T) -> WordsOnlyWrapper<T> {
        WordsOnlyWrapper(inner)
    }
}

#[derive(Clone)]
pub struct WordsOnlyWrapper<T>(T);

impl<T: Tokenizer> Tokenizer for WordsOnlyWrapper<T> {
    type TokenStream<'a> = WordsOnlyStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordsOnlyStream(self.0.token_stream(text))
    }
}

pub struct WordsOnlyStream<S>(S);

impl<S: TokenStream> TokenStream for WordsOnlyStream<S> {
    fn advance(&mut self) -> bool {
        while self.0.advance() {
            if is_word(&self.0.token().text) {
                return true;
            }
        }
        false
    }
    fn token(&self) -> &Token {
        self.0.token()
    }
    fn token_mut(&mut self) -> &mut Token {
        self.0.token_mut()
    }
}
