-- Whether a dataset has any assignment is asked before answers are checked against assignments
-- and quotas; without this index the question scans every assignment.
CREATE INDEX record_assignments_dataset ON record_assignments (dataset_id);
