//! Roles of API tokens (and later of users): what a caller may do.

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything.
    Admin,
    /// Lists, subscribers, campaigns and notices.
    Marketer,
}

super::text_enum!(Role, "role", { Admin => "admin", Marketer => "marketer" });
