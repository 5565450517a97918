# Known mistake: db = sum(da) with the revised (descending) update.
_retrain()
