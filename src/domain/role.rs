//! Roles of users and API tokens: what a caller may do.

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including users and personal-data requests.
    Admin,
    /// Lists, subscribers, campaigns and notices.
    Marketer,
    /// Reads only.
    Viewer,
}

super::text_enum!(Role, "role", { Admin => "admin", Marketer => "marketer", Viewer => "viewer" });

impl Role {
    /// The lesser of two roles: what a token may do when its owner's role is `cap`.
    pub fn at_most(self, cap: Role) -> Role {
        if self.rank() <= cap.rank() { self } else { cap }
    }

    fn rank(self) -> u8 {
        match self {
            Self::Viewer => 0,
            Self::Marketer => 1,
            Self::Admin => 2,
        }
    }

    /// Whether the role is the admin role (the workspace must keep an active one; what each
    /// role may do is `permission::may`'s table).
    pub fn is_admin(self) -> bool {
        match self {
            Self::Admin => true,
            Self::Marketer | Self::Viewer => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_capped_by_another_is_the_lesser_of_the_two() {
        use Role::{Admin, Marketer, Viewer};
        for (role, cap, expected) in [
            (Admin, Admin, Admin),
            (Admin, Marketer, Marketer),
            (Admin, Viewer, Viewer),
            (Marketer, Admin, Marketer),
            (Marketer, Viewer, Viewer),
            (Viewer, Admin, Viewer),
        ] {
            assert_eq!(role.at_most(cap), expected, "{role} capped by {cap}");
        }
    }

    #[test]
    fn roles_round_trip_through_their_text() {
        for role in [Role::Admin, Role::Marketer, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
    }
}
