//! The shard master's service begins with Paxos's three methods, in Paxos's order and with
//! its types, so that a Paxos client's messages are the shard master's on the wire: that is
//! what lets a server's Paxos peer use `paxos::protocol::PaxosLinks` to reach the others.

use paxos::Ballot;
use paxos::protocol::{
    AcceptArgs, AcceptOutcome, AcceptReply, Bytes, DecidedArgs, DecidedReply, PaxosRequest,
    PaxosResponse, PrepareArgs, PrepareOutcome, PrepareReply,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shardmaster::{ShardMasterServiceRequest as Req, ShardMasterServiceResponse as Resp};

/// `value` encoded as one type and decoded as another.
fn across<A: Serialize, B: DeserializeOwned>(value: &A) -> B {
    let bytes = postcard::to_allocvec(value).expect("a message encodes");
    postcard::from_bytes(&bytes).expect("the same bytes decode as the other service's")
}

#[test]
fn paxos_requests_are_shard_master_requests() {
    let ballot = Ballot { round: 3, peer: 1 };
    let prepare = PrepareArgs {
        seq: 7,
        ballot,
        from: 1,
        done: 2,
    };
    let Req::Prepare { args } = across(&PaxosRequest::Prepare {
        args: prepare.clone(),
    }) else {
        panic!("a Paxos prepare is not the shard master's prepare");
    };
    assert_eq!(args, prepare);
    let accept = AcceptArgs {
        seq: 7,
        ballot,
        value: Bytes(vec![1, 2]),
        from: 1,
        done: 2,
    };
    let Req::Accept { args } = across(&PaxosRequest::Accept {
        args: accept.clone(),
    }) else {
        panic!("a Paxos accept is not the shard master's accept");
    };
    assert_eq!(args, accept);
    let decided = DecidedArgs {
        seq: 7,
        value: Bytes(vec![3]),
        from: 0,
        done: 2,
    };
    let Req::Decided { args } = across(&PaxosRequest::Decided {
        args: decided.clone(),
    }) else {
        panic!("a Paxos decision is not the shard master's decision");
    };
    assert_eq!(args, decided);
}

#[test]
fn shard_master_replies_are_paxos_replies() {
    let promise = PrepareReply {
        outcome: PrepareOutcome::Promise { accepted: None },
        done: 4,
    };
    let PaxosResponse::Prepare(reply) = across(&Resp::Prepare(promise.clone())) else {
        panic!("the shard master's promise is not a Paxos promise");
    };
    assert_eq!(reply, promise);
    let accepted = AcceptReply {
        outcome: AcceptOutcome::Accepted,
        done: 4,
    };
    let PaxosResponse::Accept(reply) = across(&Resp::Accept(accepted.clone())) else {
        panic!("the shard master's accept reply is not Paxos's");
    };
    assert_eq!(reply, accepted);
    let PaxosResponse::Decided(reply) = across(&Resp::Decided(DecidedReply { done: 4 })) else {
        panic!("the shard master's decided reply is not Paxos's");
    };
    assert_eq!(reply.done, 4);
}
