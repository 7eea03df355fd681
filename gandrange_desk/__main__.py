from gandrange_desk.cli import main

raise SystemExit(main())
