from underact.cli import main

raise SystemExit(main())
