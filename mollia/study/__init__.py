"""Study stage: the papermill grid runner (local or SLURM through submitit) and the report."""
