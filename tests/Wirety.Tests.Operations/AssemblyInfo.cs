// One server and one set of databases per run; the tests share them, so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
