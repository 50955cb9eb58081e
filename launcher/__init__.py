"""On top of everything, in the application environment: ``make run``'s
launcher (``stack``), the demo shop page (``site``) and the export of the
sentence-embedding model at setup (``model_export``)."""
