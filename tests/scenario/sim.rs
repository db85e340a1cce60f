//! The simulator backend of the shared scenarios: the real binary against the simulator in
//! this test thread's network namespace; the test plays AMF's part in restarting macsync.

use std::cell::RefCell;
use std::time::Duration;

use crate::scenario::{Backend, Table};
use crate::simenv::{Running, SimEnv, NODE_DN};

pub struct SimNode {
    // Declared first: macsync stops before the simulator's state directory goes.
    mc: RefCell<Option<Running>>,
    pub env: SimEnv,
    slack: Duration,
}

impl SimNode {
    pub fn new(env: SimEnv, mc: Running, slack: Duration) -> SimNode {
        SimNode {
            mc: RefCell::new(Some(mc)),
            env,
            slack,
        }
    }
}

impl Backend for SimNode {
    fn period(&self) -> Duration {
        self.env.period
    }

    fn slack(&self) -> Duration {
        self.slack
    }

    fn ip(&self, args: &str) -> Result<String, String> {
        crate::common::try_ip(&args.split_whitespace().collect::<Vec<_>>())
    }

    fn imm_links(&self) -> Result<Option<Table>, String> {
        if !self.env.object_exists(NODE_DN) {
            return Ok(None);
        }
        Ok(Some(
            self.env
                .imm_interfaces()
                .into_iter()
                .map(|(name, (mac, idx))| {
                    let oper = self.env.imm_oper(&name).unwrap_or(0);
                    (name, (mac, idx, oper))
                })
                .collect(),
        ))
    }

    fn counter(&self, name: &str) -> Result<u64, String> {
        self.env
            .counters()
            .get(name)
            .copied()
            .ok_or_else(|| format!("no counter {name} on {NODE_DN}"))
    }

    fn admin_op(&self, op: u64) -> Result<(), String> {
        match self.env.sim(&["immadm", "-o", &op.to_string(), NODE_DN]) {
            0 => Ok(()),
            rc => Err(format!("immadm -o {op} {NODE_DN}: exit status {rc}")),
        }
    }

    fn kill_macsync(&self) -> Result<(), String> {
        // Dropping `Running` kills it (SIGKILL) and reaps it.
        self.mc
            .borrow_mut()
            .take()
            .ok_or("macsync is not running")?;
        Ok(())
    }

    fn macsync_back(&self) -> Result<(), String> {
        *self.mc.borrow_mut() = Some(self.env.start(&[]));
        Ok(())
    }
}
