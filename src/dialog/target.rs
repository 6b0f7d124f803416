//! What a turn is about: the `service` and `cluster` slots resolved against the catalog,
//! through the caller's grants (the same words whether a name is missing or not theirs),
//! or the service last talked about; and asking back when it is missing or unclear.

use super::resolve::{self, Match};
use super::{Answer, Dialog, Move, Need, Pending, Reply, Slot, Turn};
use super::{each, place, scope};
use crate::ops::{Catalog, OpsError, ServiceRef};

impl Dialog {
    /// The service the turn is about: the `service` slot resolved against the catalog
    /// (within the `cluster` slot, if given), else the one last talked about.
    pub(crate) async fn target_service(&self, turn: &Turn) -> Result<Need<ServiceRef>, OpsError> {
        let Some(spoken) = turn.slots.get(&Slot::Service) else {
            if let Some(service) = &turn.context.service {
                if !turn.grants.service(turn.intent, service) {
                    return Ok(Need::Ask(Box::new(Answer::to(
                        turn,
                        Reply::Denied,
                        Move::Fail,
                    ))));
                }
                return Ok(Need::Have(service.clone()));
            }
            return Ok(Need::Ask(Box::new(self.elicit(
                turn,
                Slot::Service,
                Reply::Ask(Slot::Service),
            ))));
        };
        let catalog = self.ops.catalog().await?;
        let cluster = match self.target_cluster(turn, &catalog) {
            Need::Have(cluster) => cluster,
            Need::Ask(answer) => return Ok(Need::Ask(answer)),
        };
        // With accounts: where it was said to be ("checkout in staging"), and the name
        // without those words.
        let accounts = self.accounts(turn);
        let place = scope::heard(turn, &accounts);
        let spoken = &if accounts.is_empty() {
            spoken.clone()
        } else {
            scope::without_place(spoken, &accounts)
        };
        let candidates: Vec<&ServiceRef> = catalog
            .services
            .iter()
            .filter(|s| cluster.as_ref().is_none_or(|c| &s.cluster == c))
            .filter(|s| place.holds(s.place.as_ref()))
            .filter(|s| turn.grants.service(turn.intent, s))
            .collect();
        Ok(
            match resolve::resolve(spoken, &candidates, |s| s.name.as_str()) {
                Match::Found(service) => {
                    match self.which_or_each(turn, &candidates, &service.name).await {
                        Some(ask) => Need::Ask(Box::new(ask)),
                        None => Need::Have((*service).clone()),
                    }
                }
                Match::Likely(service) => {
                    let mut slots = turn.slots.clone();
                    slots.insert(Slot::Cluster, service.cluster.clone());
                    if let Some(p) = &service.place {
                        slots.insert(Slot::Account, p.account.clone());
                        slots.insert(Slot::Region, p.region.clone());
                    }
                    let pending = Pending::Confirm {
                        intent: turn.intent,
                        slots,
                        slot: Slot::Service,
                        value: service.name.clone(),
                    };
                    Need::Ask(Box::new(Answer::ask(
                        turn,
                        Reply::DidYouMean((*service).clone()),
                        Move::ConfirmIntent,
                        pending,
                    )))
                }
                Match::Ambiguous(services) => {
                    if services.iter().all(|s| s.name == services[0].name) {
                        match self
                            .which_or_each(turn, &candidates, &services[0].name)
                            .await
                        {
                            Some(ask) => Need::Ask(Box::new(ask)),
                            None => Need::Have((*services[0]).clone()),
                        }
                    } else {
                        let names = services.into_iter().map(|s| (*s).clone()).collect();
                        Need::Ask(Box::new(self.elicit(
                            turn,
                            Slot::Service,
                            Reply::WhichService(names),
                        )))
                    }
                }
                // A caller who may not see every service hears the same whether the
                // name does not exist or is not theirs to ask about.
                Match::NoMatch if !turn.grants.everything(turn.intent) => {
                    Need::Ask(Box::new(Answer::to(turn, Reply::Denied, Move::Fail)))
                }
                Match::NoMatch => Need::Ask(Box::new(self.elicit(
                    turn,
                    Slot::Service,
                    Reply::UnknownService(spoken.clone()),
                ))),
            },
        )
    }

    /// The cluster the turn names: the `cluster` slot resolved against the catalog, or
    /// else a place the words name that no slot took ("any alerts in staging": the NLU
    /// only takes names it knows, so an unknown place would otherwise be dropped and the
    /// answer widened to the whole fleet). `None` when the turn names no place.
    ///
    /// A cluster that does not exist and one the caller may not see get the same words,
    /// so the answer never tells which clusters exist.
    pub(crate) fn target_cluster(&self, turn: &Turn, catalog: &Catalog) -> Need<Option<String>> {
        let accounts = self.accounts(turn);
        // With accounts, a cluster is the caller's to name only where it is in an account
        // they may see (a cluster of a hidden account sounds like one that does not exist).
        let in_visible_account = |c: &String| {
            self.ops.accounts().is_empty()
                || catalog.services.iter().any(|s| {
                    &s.cluster == c && s.account().is_some_and(|a| accounts.iter().any(|v| v == a))
                })
        };
        let visible: Vec<String> = catalog
            .clusters
            .iter()
            .filter(|c| turn.grants.cluster(turn.intent, c))
            .filter(|c| in_visible_account(c))
            .cloned()
            .collect();
        // With accounts, an account or a region is a place too, but not a cluster.
        let names_where = |w: &str| {
            !accounts.is_empty()
                && (scope::account_in(w, &accounts).is_some() || scope::regions_in(w).is_some())
        };
        let Some(spoken) = turn.slots.get(&Slot::Cluster) else {
            return match place::unheard(turn.transcript.as_deref(), turn.slots.values(), catalog) {
                Some(place) if !names_where(&place) => self.no_such_cluster(turn, &place),
                _ => Need::Have(None),
            };
        };
        match resolve::resolve(spoken, &visible, String::as_str) {
            Match::Found(cluster) | Match::Likely(cluster) => Need::Have(Some(cluster.clone())),
            _ if names_where(spoken) => Need::Have(None),
            _ => self.no_such_cluster(turn, spoken),
        }
    }

    /// [`Dialog::target_cluster`] for a handler without the catalog at hand: fetched only
    /// when the turn names a place at all.
    pub(crate) async fn target_place(&self, turn: &Turn) -> Result<Need<Option<String>>, OpsError> {
        if !turn.slots.contains_key(&Slot::Cluster)
            && place::candidate(turn.transcript.as_deref()).is_none_or(|w| {
                let accounts = self.accounts(turn);
                !accounts.is_empty()
                    && (scope::account_in(&w, &accounts).is_some()
                        || scope::regions_in(&w).is_some())
            })
        {
            return Ok(Need::Have(None));
        }
        let catalog = self.ops.catalog().await?;
        Ok(self.target_cluster(turn, &catalog))
    }

    /// The accounts the caller may hear of, by their spoken names (none without accounts):
    /// a hidden account is not even a name it can be asked about.
    pub(crate) fn accounts(&self, turn: &Turn) -> Vec<String> {
        self.ops
            .accounts()
            .into_iter()
            .filter(|a| turn.grants.account(turn.intent, a))
            .collect()
    }

    /// Where the turn is about (an account, regions), among the accounts the caller may
    /// hear of.
    pub(crate) fn place(&self, turn: &Turn) -> scope::Where {
        scope::heard(turn, &self.accounts(turn))
    }

    /// "I don't know a cluster called staging": asked back, the slot left to fill.
    fn no_such_cluster(&self, turn: &Turn, spoken: &str) -> Need<Option<String>> {
        let mut turn = turn.clone();
        turn.slots.remove(&Slot::Cluster);
        Need::Ask(Box::new(self.elicit(
            &turn,
            Slot::Cluster,
            Reply::UnknownCluster(spoken.to_owned()),
        )))
    }

    /// When `name` is more than one of `candidates`: a question about it answered in each
    /// of its two or three places (accounts, regions), else the question that asks which;
    /// `None` when it is one service.
    async fn which_or_each(
        &self,
        turn: &Turn,
        candidates: &[&ServiceRef],
        name: &str,
    ) -> Option<Answer> {
        let ask = self.which_one(turn, candidates, name)?;
        let same: Vec<&ServiceRef> = candidates
            .iter()
            .copied()
            .filter(|s| s.name == name)
            .collect();
        let spots: Option<Vec<each::Spot>> = same
            .iter()
            .map(|s| {
                s.place.clone().map(|place| each::Spot {
                    place,
                    slots: vec![
                        (Slot::Service, s.name.clone()),
                        (Slot::Cluster, s.cluster.clone()),
                    ],
                })
            })
            .collect();
        if let Some(spots) = spots
            && let Some(each) = self.in_each(turn, spots).await
        {
            return Some(each);
        }
        Some(ask)
    }

    /// When `name` is more than one of `candidates` (in two accounts, two regions of one,
    /// or two clusters), the question that asks which; `None` when it is one service.
    fn which_one(&self, turn: &Turn, candidates: &[&ServiceRef], name: &str) -> Option<Answer> {
        let same: Vec<&ServiceRef> = candidates
            .iter()
            .copied()
            .filter(|s| s.name == name)
            .collect();
        let accounts = scope::accounts_of(same.iter().map(|s| s.place.as_ref()));
        let regions = regions_of(&same);
        let clusters: Vec<String> = same.iter().map(|s| s.cluster.clone()).collect();
        if accounts.len() > 1 {
            // Never answered from the wrong account: asked which.
            Some(self.which_account(turn, name, accounts))
        } else if regions.len() > 1 {
            Some(self.which_region(turn, name, regions))
        } else if clusters.len() > 1 {
            Some(self.which_cluster(turn, name, clusters))
        } else {
            None
        }
    }

    fn which_account(&self, turn: &Turn, service: &str, accounts: Vec<String>) -> Answer {
        let mut turn = turn.clone();
        turn.slots.insert(Slot::Service, service.to_owned());
        self.elicit(
            &turn,
            Slot::Account,
            Reply::WhichAccount {
                service: service.to_owned(),
                accounts,
                alarm: false,
            },
        )
    }

    fn which_region(&self, turn: &Turn, service: &str, regions: Vec<String>) -> Answer {
        let mut turn = turn.clone();
        turn.slots.insert(Slot::Service, service.to_owned());
        self.elicit(
            &turn,
            Slot::Region,
            Reply::WhichRegion {
                service: service.to_owned(),
                regions,
                alarm: false,
            },
        )
    }

    fn which_cluster(&self, turn: &Turn, service: &str, clusters: Vec<String>) -> Answer {
        let mut turn = turn.clone();
        turn.slots.insert(Slot::Service, service.to_owned());
        self.elicit(
            &turn,
            Slot::Cluster,
            Reply::WhichCluster {
                service: service.to_owned(),
                clusters,
            },
        )
    }

    /// Asks for `slot`, remembering to answer `turn.intent` with the value (and the
    /// options offered, if the reply offers some).
    pub(crate) fn elicit(&self, turn: &Turn, slot: Slot, reply: Reply) -> Answer {
        let mut slots = turn.slots.clone();
        slots.remove(&slot);
        let options = match &reply {
            Reply::WhichService(services) => services.iter().map(|s| s.name.clone()).collect(),
            Reply::WhichCluster { clusters, .. } => clusters.clone(),
            Reply::WhichAlarm(alarms) => alarms.clone(),
            Reply::WhichAccount { accounts, .. } => accounts.clone(),
            Reply::WhichRegion { regions, .. } => regions.clone(),
            _ => Vec::new(),
        };
        let pending = Pending::Fill {
            intent: turn.intent,
            slots: slots.clone(),
            slot,
            options,
        };
        let mut answer = Answer::ask(turn, reply, Move::ElicitSlot(slot), pending);
        answer.slots = slots;
        answer
    }
}

/// The regions among `services`' places, in order of first appearance.
fn regions_of(services: &[&ServiceRef]) -> Vec<String> {
    let mut regions: Vec<String> = Vec::new();
    for p in services.iter().filter_map(|s| s.place.as_ref()) {
        if !regions.contains(&p.region) {
            regions.push(p.region.clone());
        }
    }
    regions
}
