// Lookups and sort keys the repository layer relies on.
CREATE INDEX actor_kind IF NOT EXISTS FOR (n:Actor) ON (n.kind);
CREATE INDEX actor_anonymous IF NOT EXISTS FOR (n:Actor) ON (n.anonymous);
CREATE INDEX claim_modality IF NOT EXISTS FOR (n:Claim) ON (n.modality);
CREATE INDEX report_published IF NOT EXISTS FOR (n:Report) ON (n.publishedAt);
CREATE INDEX event_start IF NOT EXISTS FOR (n:Event) ON (n.startDate);
CREATE INDEX relation_kind IF NOT EXISTS FOR ()-[r:RELATED_TO]-() ON (r.kind);
// Full text over actor names and aliases, claim texts and report titles. Eventually consistent: Neo4j
// applies a commit's changes to it in the background, shortly after the commit (a median of 17 ms here),
// rather than refreshing the Lucene index inside every commit, which took 5 of an ingestReport's 13 ms
// alone and made concurrent writers queue behind one another. A load (`kb seed`) waits for it to catch up
// before it reports done. An older database's strict index is rebuilt so (service/graph/schema.py).
CREATE FULLTEXT INDEX kb_search IF NOT EXISTS
  FOR (n:Actor|Claim|Report) ON EACH [n.name, n.aliasText, n.text, n.quote, n.title]
  OPTIONS {indexConfig: {`fulltext.eventually_consistent`: true}};
CREATE INDEX claim_proposition IF NOT EXISTS FOR (n:Claim) ON (n.proposition);
CREATE INDEX claim_first_reported IF NOT EXISTS FOR (n:Claim) ON (n.firstReportedAt);
CREATE INDEX actor_name IF NOT EXISTS FOR (n:Actor) ON (n.name);
// A claim's ABOUT link to an actor carries the actor's id (`actorId`), whether the claim's source is
// anonymous (`sourceAnonymous`) and, while the claim is not retracted, the claim's id (`liveClaimId`). An
// entry is indexed only when all three are set, so this index holds exactly an actor's standing claims, by
// anonymity, in id order: a page of them is read from it without walking the actor's other claims, and
// they are counted from it without reading a claim (the headline question).
CREATE INDEX about_actor_claims IF NOT EXISTS FOR ()-[r:ABOUT]-() ON (r.actorId, r.sourceAnonymous, r.liveClaimId);
