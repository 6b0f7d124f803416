//! Who is asking: Cognito tokens verified into a [`Principal`] (`cognito`), and what that
//! principal may ask about (`policy`, next).

pub mod cognito;
pub mod policy;

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Cognito's stable user id.
    pub sub: String,
    pub username: String,
    /// `cognito:groups`; empty when the user is in none.
    pub groups: Vec<String>,
}
