//! One module per subcommand.

pub(crate) mod a2a;
pub(crate) mod bench;
pub(crate) mod chat;
pub(crate) mod replay;
pub(crate) mod serve;
pub(crate) mod tail;
