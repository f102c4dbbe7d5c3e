//! Query strings an attacker controls: the OAuth start's `return_to` and the
//! provider's callback. Every parameter authjar reads must appear at most
//! once; a repeated one is refused rather than resolved by "first wins" or
//! "last wins", since proxies and frameworks disagree on which one that is.

/// A parameter authjar reads appeared more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a query parameter appears more than once")]
pub struct RepeatedParam;

/// The single (percent-decoded) value of `name` in `query`; `None` when absent.
pub fn single_param(query: Option<&str>, name: &str) -> Result<Option<String>, RepeatedParam> {
    let mut values = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned());
    let first = values.next();
    if values.next().is_some() {
        return Err(RepeatedParam);
    }
    Ok(first)
}

/// The parameters of a provider's redirect back to `/auth/oauth/{provider}/callback`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackQuery {
    /// `state`: must equal the transaction's.
    pub state: Option<String>,
    /// `code`: the authorization code.
    pub code: Option<String>,
    /// `iss` (RFC 9207): the issuer, when the provider names itself.
    pub iss: Option<String>,
    /// `error`: the provider refused or failed; its text is never shown.
    pub error: Option<String>,
}

impl CallbackQuery {
    /// Parses the callback's query; any of the four parameters repeated is refused.
    pub fn parse(query: Option<&str>) -> Result<CallbackQuery, RepeatedParam> {
        Ok(CallbackQuery {
            state: single_param(query, "state")?,
            code: single_param(query, "code")?,
            iss: single_param(query, "iss")?,
            error: single_param(query, "error")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_values_are_decoded_and_repeats_refused() {
        assert_eq!(single_param(Some("a=1&b=%2F"), "b"), Ok(Some("/".into())));
        assert_eq!(single_param(None, "b"), Ok(None));
        assert_eq!(single_param(Some("b=1&b=2"), "b"), Err(RepeatedParam));
        let q = CallbackQuery::parse(Some("code=c&state=s&iss=https%3A%2F%2Fop")).unwrap();
        assert_eq!(q.iss.as_deref(), Some("https://op"));
        assert_eq!(
            CallbackQuery::parse(Some("code=a&code=b")),
            Err(RepeatedParam)
        );
    }
}
