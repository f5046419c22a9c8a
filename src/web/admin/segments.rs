//! Segments in the admin UI.

use super::AdminError;
use crate::services::segments::SegmentsError;

impl From<SegmentsError> for AdminError {
    fn from(e: SegmentsError) -> Self {
        match e {
            SegmentsError::Forbidden(_) => Self::Forbidden,
            SegmentsError::NotFound => Self::NotFound,
            SegmentsError::Store(e) => e.into(),
            e @ (SegmentsError::Invalid(_)
            | SegmentsError::NameTaken(_)
            | SegmentsError::InUse(_)) => Self::internal(&e),
        }
    }
}
