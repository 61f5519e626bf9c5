// Lookups and sort keys the repository layer relies on.
CREATE INDEX actor_kind IF NOT EXISTS FOR (n:Actor) ON (n.kind);
CREATE INDEX actor_anonymous IF NOT EXISTS FOR (n:Actor) ON (n.anonymous);
CREATE INDEX claim_modality IF NOT EXISTS FOR (n:Claim) ON (n.modality);
CREATE INDEX report_published IF NOT EXISTS FOR (n:Report) ON (n.publishedAt);
CREATE INDEX event_start IF NOT EXISTS FOR (n:Event) ON (n.startDate);
CREATE INDEX relation_kind IF NOT EXISTS FOR ()-[r:RELATED_TO]-() ON (r.kind);
// Full text over actor names and aliases, claim texts and report titles.
CREATE FULLTEXT INDEX kb_search IF NOT EXISTS
  FOR (n:Actor|Claim|Report) ON EACH [n.name, n.aliasText, n.text, n.quote, n.title];
CREATE INDEX claim_proposition IF NOT EXISTS FOR (n:Claim) ON (n.proposition);
CREATE INDEX claim_first_reported IF NOT EXISTS FOR (n:Claim) ON (n.firstReportedAt);
CREATE INDEX actor_name IF NOT EXISTS FOR (n:Actor) ON (n.name);
