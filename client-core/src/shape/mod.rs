//! The client shape, in code: what every API client of the SDK is made of, so that a
//! user who knows one client knows all four.
//!
//! - **One builder**: [`ClientConfig`] holds the settings every builder shares, and
//!   [`ClientBuilderShape`] gives every builder the same setters (`base_url`,
//!   `credential`, `read_timeout`, `request_timeout`, `connect_timeout`,
//!   `retry_policy`, `throttle`, `clock`, `user_agent_suffix`, `tls_roots`, `proxy`) and the same `from_env`/`from_vars`, reading its
//!   variables through [`Vars`]. An API crate supplies only its [`ApiDefaults`], its
//!   credential kinds and its policies.
//! - **One pipeline with the API's policies**: a [`RetryClassifier`](crate::RetryClassifier)
//!   says what an API's own failures mean; [`ApiSpecificError`](crate::ApiSpecificError)
//!   claims its own errors; [`ErrorDetail`](crate::ErrorDetail)s read an error's details.
//! - **One paginator**: [`Paginator`] over a [`PageSource`], for page tokens, page
//!   numbers and links; [`Window`], the page of a read the client cuts into windows.
//! - **The same verbs**: [`Request`] (`to_request`), [`Sendable`] (`send`),
//!   [`Streamable`] (`stream`), [`Pageable`] (`pages`), [`Storable`] (`copy_to`,
//!   `write_to`) and [`Resumable`] (`resume_from`, `checkpointed`).
//! - **Checkpoints**: [`Checkpoint`], where a long read stands, written once here for
//!   paged reads ([`Paginator::checkpoints`], [`checkpointed`], [`resume_pages`]).

mod builder;
mod checkpoint;
mod config;
mod paging;
mod vars;
mod verbs;
mod window;

pub use builder::ClientBuilderShape;
pub use checkpoint::{
    CHECKPOINT_VERSION, Checkpoint, Checkpointed, CheckpointedPage, Position, checkpointed, resume_pages,
};
pub use config::{ApiDefaults, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT};
pub use paging::{Cursor, Fetched, Page, PageSource, Paginator, fingerprint, next_link};
pub use vars::Vars;
pub use verbs::{Pageable, Request, Resumable, Sendable, Storable, Streamable, Written};
pub use window::Window;
