//! Who may act: the one table of role × action that every service asks, as `may_send` decides
//! who may be mailed. The admin UI, the API and the CLI act through the same services, so
//! they cannot disagree.

use super::{ApiTokenId, EmailAddress, Role, UserId};

/// Something an operator asks Bulletin to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read lists, subscribers, campaigns, notices, customers, templates, figures and job
    /// runs.
    Read,
    /// Create, change and archive lists.
    ManageLists,
    /// Add, correct, import, unsubscribe, block and unblock subscribers.
    ManageSubscribers,
    /// Write, test, schedule, pause, resume and cancel campaigns.
    ManageCampaigns,
    /// Products, customers, and product notices.
    ManageNotices,
    /// Save and revert e-mail template overrides; write transactional templates.
    ManageTemplates,
    /// Send transactional mail (`POST /api/v1/transactional`).
    SendTransactional,
    /// Export, restrict and erase a person's data; log and close data-subject requests.
    HandlePersonalData,
    /// Users, roles and API tokens.
    ManageAccess,
    /// Read the audit log: who did what, the admins' own changes included.
    ReadAudit,
}

/// Whether `role` may do `action`. Every case is spelled out: a new action or role must be
/// decided here.
pub fn may(role: Role, action: Action) -> bool {
    use Action::{
        HandlePersonalData, ManageAccess, ManageCampaigns, ManageLists, ManageNotices,
        ManageSubscribers, ManageTemplates, Read, ReadAudit, SendTransactional,
    };
    match (role, action) {
        (Role::Admin, _) => true,
        (Role::Marketer, Read) => true,
        (
            Role::Marketer,
            ManageLists | ManageSubscribers | ManageCampaigns | ManageNotices | ManageTemplates
            | SendTransactional,
        ) => true,
        (Role::Marketer, HandlePersonalData | ManageAccess | ReadAudit) => false,
        (Role::Viewer, Read) => true,
        (
            Role::Viewer,
            ManageLists | ManageSubscribers | ManageCampaigns | ManageNotices | ManageTemplates
            | SendTransactional | HandlePersonalData | ManageAccess | ReadAudit,
        ) => false,
    }
}

/// Who acts on Bulletin's records, with the role the permission table is asked for, and the
/// name the audit log keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(missing_docs, reason = "the fields' names say what they hold")]
pub enum Actor {
    /// A user of the admin UI.
    User {
        /// The user.
        id: UserId,
        /// Their login address.
        email: EmailAddress,
        /// Their current role.
        role: Role,
    },
    /// An API token, with the role it acts with (never more than its owner's).
    Token {
        /// The token.
        id: ApiTokenId,
        name: String,
        /// Its effective role.
        role: Role,
        /// The user who owns it, if any.
        owner: Option<UserId>,
    },
    /// The operator at the command line, who holds the database and the keys.
    Cli,
    /// Bulletin itself: the scheduler's jobs.
    System,
}

/// An actor's role does not allow the action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {role} may not do this")]
pub struct Forbidden {
    /// The role that asked.
    pub role: Role,
}

impl Actor {
    /// The role the permission table is asked for; the CLI and the jobs act as admins.
    pub fn role(&self) -> Role {
        match self {
            Self::User { role, .. } | Self::Token { role, .. } => *role,
            Self::Cli | Self::System => Role::Admin,
        }
    }

    /// Whether the actor may do `action`.
    ///
    /// # Errors
    /// `Forbidden` when the role does not allow it.
    pub fn authorize(&self, action: Action) -> Result<(), Forbidden> {
        let role = self.role();
        match may(role, action) {
            true => Ok(()),
            false => Err(Forbidden { role }),
        }
    }

    /// The user behind the actor: the user, or the token's owner.
    pub fn user(&self) -> Option<UserId> {
        match self {
            Self::User { id, .. } => Some(*id),
            Self::Token { owner, .. } => *owner,
            Self::Cli | Self::System => None,
        }
    }

    /// The name the audit log and the consent ledger keep: `user:EMAIL`, `api:TOKEN-NAME`,
    /// `cli` or `system`.
    pub fn name(&self) -> String {
        match self {
            Self::User { email, .. } => format!("user:{}", email.as_str()),
            Self::Token { name, .. } => format!("api:{name}"),
            Self::Cli => "cli".into(),
            Self::System => "system".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    const ACTIONS: [Action; 10] = [
        Read,
        ManageLists,
        ManageSubscribers,
        ManageCampaigns,
        ManageNotices,
        ManageTemplates,
        SendTransactional,
        HandlePersonalData,
        ManageAccess,
        ReadAudit,
    ];

    #[test]
    fn admins_do_everything_marketers_the_mailings_and_viewers_only_read() {
        for action in ACTIONS {
            assert!(may(Role::Admin, action), "admin {action:?}");
            assert_eq!(
                may(Role::Viewer, action),
                action == Read,
                "viewer {action:?}"
            );
            let marketer = !matches!(action, HandlePersonalData | ManageAccess | ReadAudit);
            assert_eq!(may(Role::Marketer, action), marketer, "marketer {action:?}");
        }
    }

    #[test]
    fn the_cli_and_the_jobs_act_as_admins_and_tokens_with_their_role() {
        assert_eq!(Actor::Cli.authorize(ManageAccess), Ok(()));
        assert_eq!(Actor::System.authorize(HandlePersonalData), Ok(()));
        let token = Actor::Token {
            id: ApiTokenId::from_uuid(uuid::Uuid::nil()),
            name: "ci".into(),
            role: Role::Marketer,
            owner: None,
        };
        assert_eq!(token.authorize(ManageCampaigns), Ok(()));
        assert_eq!(
            token.authorize(HandlePersonalData),
            Err(Forbidden {
                role: Role::Marketer
            })
        );
        assert_eq!(token.name(), "api:ci");
    }
}
