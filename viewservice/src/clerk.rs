//! The clerk: how a server pings the view server and how anyone asks for the current view.

use labrpc::{Error, Network, Node};

use crate::common::{PingArgs, View, ViewEnd, ViewServiceClient};

/// A client of the view server, belonging to node `me`. Cheap to clone.
#[derive(Clone)]
pub struct Clerk {
    me: String,
    client: ViewServiceClient<ViewEnd>,
}

impl Clerk {
    /// A clerk on node `me` that talks to the view server on node `server`.
    pub fn new(net: &Network, me: &str, server: &str) -> Clerk {
        Clerk::on(&Node::simulated(net, me), server)
    }

    /// A clerk on `node` that talks to the view server `server`; it pings as the node's name.
    pub fn on(node: &Node, server: &str) -> Clerk {
        Clerk {
            me: node.name().to_owned(),
            client: ViewServiceClient::from(node.client(server)),
        }
    }

    /// The node this clerk belongs to (the name it pings as).
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Pings as `me`, knowing view `viewnum` (0 after a restart); returns the current view.
    pub async fn ping(&self, viewnum: u64) -> Result<View, Error> {
        let args = PingArgs {
            me: self.me.clone(),
            viewnum,
        };
        self.client
            .ping(labrpc::context(), args)
            .await
            .map_err(Error::from)
    }

    /// The current view, without volunteering as a server.
    pub async fn get(&self) -> Result<View, Error> {
        self.client
            .get(labrpc::context())
            .await
            .map_err(Error::from)
    }

    /// The current primary; `None` if there is none or the view server did not answer.
    pub async fn primary(&self) -> Option<String> {
        self.get().await.ok().and_then(|view| view.primary)
    }
}
