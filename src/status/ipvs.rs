//! The status document's `"ipvs"` section: the IPVS table picket keeps
//! ([`Reconciler`]), one item per service then one per destination, each
//! with what should be in the kernel and what picket believes is there.
//!
//! ```text
//! {"kind":"service","service":"TCP 10.0.0.1:80","virtual_server":0,
//!  "scheduler":"wrr","desired":true,"in_kernel":true}
//! {"kind":"destination","service":"TCP 10.0.0.1:80","address":"10.0.1.1:8080",
//!  "origin":"real_server","desired_weight":3,"kernel_weight":3}
//! ```
//! A weight is `null` when the destination is (to be) out of the kernel.

use core::fmt;

use super::{Section, Wall};
use crate::ipvs::{Origin, Reconciler};
use crate::status::json::Json;
use crate::wire::ipvs::AddrPort;

/// The IPVS table as a status section.
pub struct IpvsSection<'a>(pub &'a Reconciler);

impl Section for IpvsSection<'_> {
    fn name(&self) -> &'static str {
        "ipvs"
    }

    fn len(&self) -> usize {
        self.0.services().len() + self.0.dests().len()
    }

    fn item(&self, k: usize, _wall: &Wall, j: &mut Json<'_, '_>) -> fmt::Result {
        let r = self.0;
        let services = r.services();
        if let Some(s) = services.get(k) {
            j.begin_object()?;
            j.field_str("kind", "service")?;
            j.field_display("service", &s.repr.key)?;
            j.field_u64("virtual_server", u64::from(s.vs))?;
            j.field_str("scheduler", s.repr.scheduler.as_str())?;
            j.field_bool("desired", s.desired)?;
            j.field_bool("in_kernel", s.kernel.is_some())?;
            return j.end_object();
        }
        let Some(d) = r.dests().get(k - services.len()) else {
            return j.null();
        };
        j.begin_object()?;
        j.field_str("kind", "destination")?;
        match services.get(usize::from(d.service)) {
            Some(s) => j.field_display("service", &s.repr.key)?,
            None => {
                j.key("service")?;
                j.null()?;
            }
        }
        j.field_display("address", &AddrPort(d.base.addr, d.base.port))?;
        let (origin, index) = match d.origin {
            Origin::RealServer(n) => ("real_server", n),
            Origin::Sorry(n) => ("sorry_server", n),
        };
        j.field_str("origin", origin)?;
        j.field_u64("index", u64::from(index))?;
        for (key, w) in [
            ("desired_weight", d.desired.map(|x| x.weight)),
            ("kernel_weight", d.kernel.map(|x| x.weight)),
        ] {
            j.key(key)?;
            match w {
                Some(w) => j.i64(i64::from(w))?,
                None => j.null()?,
            }
        }
        j.end_object()
    }
}
