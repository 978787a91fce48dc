//! How a server's Paxos peer reaches the others: as methods of their [`KvPaxos`](crate::KvPaxos) service,
//! since a node serves one service.

use futures::FutureExt;
use paxos::Transport;
use paxos::protocol::{
    AcceptArgs, AcceptReply, Call, DecidedArgs, DecidedReply, PrepareArgs, PrepareReply,
};

use crate::common::{KvEnd, KvPaxosClient};

/// The Paxos messages of a paxoskv server travel as methods of its [`KvPaxos`](crate::KvPaxos) service.
pub(crate) struct Links {
    pub(crate) clients: Vec<KvPaxosClient<KvEnd>>,
}

impl Transport for Links {
    fn prepare(&self, to: usize, args: PrepareArgs) -> Call<PrepareReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .prepare(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }

    fn accept(&self, to: usize, args: AcceptArgs) -> Call<AcceptReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .accept(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }

    fn decided(&self, to: usize, args: DecidedArgs) -> Call<DecidedReply> {
        let client = self.clients[to].clone();
        async move {
            client
                .decided(labrpc::context(), args)
                .await
                .map_err(labrpc::Error::from)
        }
        .boxed_local()
    }
}
