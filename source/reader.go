package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/rs/zerolog"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
)

// Step is the output of one binlog event.
type Step struct {
	// Changes are the row changes of a rows event in captured tables.
	Changes []codec.Change
	// Truncated is set for a TRUNCATE TABLE of a captured table.
	Truncated *schema.Table
	// DDL is set for a schema change in a captured database.
	DDL *DDL
	// End is true when the event ends a transaction, or is a statement
	// outside any transaction such as DDL. Position is then the point after
	// it, where reading can resume.
	End      bool
	Position offsets.Position
	// Time is when the server logged the event of an End step, to the
	// second.
	Time time.Time
}

// DDL is a statement that changes the schema, as the binlog logs it.
type DDL struct {
	// Database is the session's default database when the statement ran.
	Database  string
	Statement string
	Source    codec.Source
}

// ErrStatementDML is wrapped by the error Next returns for a data change
// logged as SQL text instead of rows. Such a change cannot be turned into
// records, and skipping it would lose data.
var ErrStatementDML = errors.New("data change logged in statement format")

// ErrPartialRowImage is wrapped by the error Next returns for a rows event
// whose images lack columns, as sessions with binlog_row_image=MINIMAL or
// NOBLOB write them. Emitting such a row would turn unknown values into
// nulls.
var ErrPartialRowImage = errors.New("row image without all columns")

// Reader reads one source server's binlog. It is not safe for concurrent use.
type Reader struct {
	cfg    *Config
	server *Server
	log    zerolog.Logger
	// eventTime is the header timestamp of the last event read that has
	// one; the server leaves it 0 in some events it makes up.
	eventTime uint32

	syncer *replication.BinlogSyncer
	stream *replication.BinlogStreamer

	file  string
	gtids mysql.GTIDSet
	// txnGTID is the GTID of the transaction being read, added to gtids
	// when the transaction ends.
	txnGTID string
	inTxn   bool

	// payload holds the events of a MySQL 8 compressed transaction
	// (TRANSACTION_PAYLOAD_EVENT) that Next has not returned yet.
	payload []*replication.BinlogEvent
	// inPayload is true while the event being handled came from payload.
	inPayload bool

	// txnStart is the start position of the current transaction, which is
	// the end of the one before. rowsEvents counts the current transaction's
	// rows events. skipRowsEvents is the number of them to drop because they
	// are committed already, in a resumed split transaction.
	txnStart       offsets.Position
	rowsEvents     int
	skipRowsEvents int

	tables  map[uint64]*cachedTable
	catalog *catalog
	history *history
	// keyless records the tables already warned about having no key.
	keyless map[string]bool
}

type cachedTable struct {
	event *replication.TableMapEvent
	table *schema.Table
}

// NewReader returns a reader that starts at from, which must be a position
// at which a transaction ended.
func NewReader(cfg *Config, server *Server, from offsets.Position, log zerolog.Logger) (*Reader, error) {
	r := &Reader{
		cfg:            cfg,
		server:         server,
		log:            log,
		file:           from.File,
		txnStart:       from,
		skipRowsEvents: from.SkipRowsEvents,
		tables:         map[uint64]*cachedTable{},
		catalog:        newCatalog(cfg),
		keyless:        map[string]bool{},
	}

	var err error
	if r.history, err = loadHistory(cfg.HistoryPath); err != nil {
		return nil, err
	}
	if r.gtids, err = mysql.ParseGTIDSet(server.Flavor, from.GTIDSet); err != nil {
		return nil, fmt.Errorf("saved position %s: invalid GTID set: %w", from, err)
	}

	r.syncer = replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: cfg.ReplicaID,
		Flavor:   server.Flavor,
		Host:     cfg.Host,
		Port:     cfg.Port,
		User:     cfg.User,
		Password: cfg.Password,
		// TIMESTAMP values come out in UTC whatever the process's TZ is.
		TimestampStringLocation: time.UTC,
		RenderJSONAsMySQLText:   true,
		// sluice decodes MySQL's binary JSON columns again itself, so that
		// each document reads as MySQL prints it and partial JSON updates
		// are applied (see rowimage.go).
		RowsEventDecodeFunc: decodeRowsEvent,
		HeartbeatPeriod:     time.Second,
		ReadTimeout:         30 * time.Second,
		// A lost connection ends the stream with an error: the worker
		// resumes from the last committed transaction, never from the middle
		// of one as go-mysql's own reconnect would.
		DisableRetrySync: true,
		// go-mysql logs through slog; sluice logs through zerolog.
		Logger: slogDiscard(),
	})
	r.stream, err = r.syncer.StartSync(mysql.Position{Name: from.File, Pos: from.Pos})
	if err != nil {
		r.syncer.Close()
		return nil, fmt.Errorf("start reading the binlog at %s: %w", from, err)
	}
	return r, nil
}

// Close stops reading and closes the replication connection.
func (r *Reader) Close() {
	r.syncer.Close()
	r.catalog.close()
}

// EventTime returns when the server logged the last event read that has a
// time, to the second. It is zero before the first such event.
func (r *Reader) EventTime() time.Time {
	if r.eventTime == 0 {
		return time.Time{}
	}
	return time.Unix(int64(r.eventTime), 0)
}

// InTransaction reports whether the last event read was inside a
// transaction that has not ended yet.
func (r *Reader) InTransaction() bool {
	return r.inTxn
}

// Next reads the next binlog event and returns what it contributes. It
// blocks until an event arrives or ctx is done.
func (r *Reader) Next(ctx context.Context) (Step, error) {
	var ev *replication.BinlogEvent
	if len(r.payload) > 0 {
		ev, r.payload = r.payload[0], r.payload[1:]
		r.inPayload = true
	} else {
		var err error
		if ev, err = r.stream.GetEvent(ctx); err != nil {
			return Step{}, err
		}
		r.inPayload = false
	}
	header := ev.Header
	if header.Timestamp != 0 {
		r.eventTime = header.Timestamp
	}

	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		r.file = string(e.NextLogName)
		r.tables = map[uint64]*cachedTable{}
		// A rotation between transactions is a position of its own. Saving
		// it keeps the saved position in a binlog file that exists, even
		// while no captured table changes. The rotation that the server
		// sends first on every connection has no timestamp.
		if !r.inTxn && header.Timestamp != 0 {
			step := r.end(header)
			step.Position.File, step.Position.Pos = r.file, uint32(e.Position)
			r.txnStart = step.Position
			return step, nil
		}

	case *replication.MariadbGTIDEvent:
		r.txnGTID = e.GTID.String()
		// A standalone GTID (DDL and other statements outside a
		// transaction) is followed by one query event and no XID.
		r.inTxn = !e.IsStandalone()

	case *replication.GTIDEvent:
		next, err := e.GTIDNext()
		if err != nil {
			return Step{}, fmt.Errorf("binlog %s:%d: invalid GTID event: %w", r.file, header.LogPos, err)
		}
		r.txnGTID = next.String()

	case *replication.QueryEvent:
		return r.query(e, header)

	case *replication.TableMapEvent:
		if err := r.tableMap(e, header); err != nil {
			return Step{}, err
		}

	case *replication.RowsEvent:
		r.rowsEvents++
		if r.rowsEvents <= r.skipRowsEvents {
			return Step{}, nil // committed before a split
		}
		changes, err := r.rows(e, header)
		return Step{Changes: changes}, err

	case *replication.XIDEvent:
		return r.end(header), nil

	case *replication.TransactionPayloadEvent:
		// NOTE: compressed transactions come from MySQL 8 with
		// binlog_transaction_compression=ON; no test server here writes
		// them, so this path is checked by reading only. go-mysql gives the
		// inner events the payload's start position, and the last one its
		// end position, which is where reading resumes.
		r.payload = append(r.payload[:0], e.Events...)
	}
	return Step{}, nil
}

var (
	beginStatement    = regexp.MustCompile(`(?i)^\s*BEGIN\b`)
	commitStatement   = regexp.MustCompile(`(?i)^\s*COMMIT\b`)
	dmlStatement      = regexp.MustCompile(`(?is)^\s*(/\*.*?\*/\s*)*(INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA)\b`)
	truncateStatement = regexp.MustCompile(`(?is)^\s*(/\*.*?\*/\s*)*TRUNCATE\b`)
	// truncateTarget reads the table of a TRUNCATE that the SQL parser does
	// not accept, such as MariaDB's TRUNCATE ... WAIT n.
	truncateTarget = regexp.MustCompile("(?is)^\\s*(?:/\\*.*?\\*/\\s*)*TRUNCATE(?:\\s+TABLE)?\\s*((?:`[^`]+`|[^\\s.`;]+)(?:\\s*\\.\\s*(?:`[^`]+`|[^\\s.`;]+))?)")
	// Statements that the binlog logs as query events but that change no
	// schema: they never go to the schema-changes topic.
	nonSchemaStatement = regexp.MustCompile(`(?is)^\s*(/\*.*?\*/\s*)*(SAVEPOINT|ROLLBACK|RELEASE|XA|FLUSH|GRANT|REVOKE|SET|ANALYZE|OPTIMIZE|REPAIR)\b`)
)

func (r *Reader) query(e *replication.QueryEvent, header *replication.EventHeader) (Step, error) {
	switch {
	case beginStatement.Match(e.Query):
		r.inTxn = true
		return Step{}, nil
	case commitStatement.Match(e.Query):
		// Non-transactional engines such as MyISAM end with COMMIT, not XID.
		return r.end(header), nil
	case dmlStatement.Match(e.Query):
		if reason := r.capturedStatement(e); reason != "" {
			return Step{}, fmt.Errorf("%w at binlog %s:%d (gtid %s, default database %q, %s): %.200s; "+
				"the session that wrote it ran with binlog_format other than ROW. "+
				"sluice stops here so that no change is lost; keep binlog_format=ROW for every session",
				ErrStatementDML, r.file, r.sourceOf(header).Pos, r.txnGTID, e.Schema, reason, e.Query)
		}
	}
	if r.inTxn {
		return Step{}, nil
	}

	// DDL and other statements outside a transaction end where they stand.
	source := r.sourceOf(header)
	step := r.end(header)
	if truncateStatement.Match(e.Query) {
		db, table, err := truncatedTable(string(e.Query), string(e.Schema))
		if err != nil {
			return Step{}, fmt.Errorf("binlog %s:%d: cannot tell which table %q truncates: %w",
				r.file, r.sourceOf(header).Pos, e.Query, err)
		}
		if r.cfg.Filter.CapturesTable(db, table) {
			step.Truncated = &schema.Table{Database: db, Name: table}
			step.DDL = &DDL{Database: db, Statement: string(e.Query), Source: source}
		}
		return step, nil
	}
	if nonSchemaStatement.Match(e.Query) {
		return step, nil
	}
	// The statement may have changed the columns, keys or types of any
	// table it names, in any database.
	r.catalog.tables = map[string]*tableFacts{}
	r.tables = map[uint64]*cachedTable{}
	stmt, parseErr := parseStatement(string(e.Query))
	if r.history.inUse() {
		if err := r.recordDDL(stmt, parseErr, string(e.Schema), step.Position); err != nil {
			return Step{}, err
		}
	}
	if db, ok := r.capturedDDL(stmt, parseErr, string(e.Schema)); ok {
		step.DDL = &DDL{Database: db, Statement: string(e.Query), Source: source}
	}
	return step, nil
}

// capturedDDL reports whether a DDL statement changes a captured database
// or table, and which database it changes: the database of the first
// captured table it names, which need not be the session's default
// database. A statement the parser did not accept (parseErr) is judged by
// the default database.
func (r *Reader) capturedDDL(stmt ast.StmtNode, parseErr error, defaultDB string) (string, bool) {
	var tables []tableName
	if parseErr == nil {
		tables = tablesOf(stmt, defaultDB)
	}
	if len(tables) == 0 {
		return defaultDB, r.cfg.Filter.CapturesDatabase(defaultDB)
	}
	for _, t := range tables {
		if t.name == "" && r.cfg.Filter.CapturesDatabase(t.db) || t.name != "" && r.cfg.Filter.CapturesTable(t.db, t.name) {
			return t.db, true
		}
	}
	return "", false
}

// capturedStatement returns why a data change logged as SQL text touches
// captured tables, or "" when it names none of them. A statement that
// cannot be parsed counts as touching them, because its tables are unknown.
func (r *Reader) capturedStatement(e *replication.QueryEvent) string {
	tables, err := statementTables(string(e.Query), string(e.Schema))
	if err != nil {
		return fmt.Sprintf("its tables are unknown because it could not be parsed: %v", err)
	}
	for _, t := range tables {
		if r.cfg.Filter.CapturesTable(t.db, t.name) {
			return "it names the captured table " + t.db + "." + t.name
		}
	}
	return ""
}

// truncatedTable returns the table a TRUNCATE statement empties, using
// defaultDB for a name without a database.
func truncatedTable(query, defaultDB string) (db, table string, err error) {
	tables, err := statementTables(query, defaultDB)
	if err == nil && len(tables) == 1 {
		return tables[0].db, tables[0].name, nil
	}
	if m := truncateTarget.FindStringSubmatch(query); m != nil {
		db, table = splitTableName(m[1], defaultDB)
		return db, table, nil
	}
	if err == nil {
		err = fmt.Errorf("the statement names %d tables", len(tables))
	}
	return "", "", err
}

// splitTableName splits a table name as written in SQL, db.table or table
// with or without backquotes, using defaultDB when it names no database.
func splitTableName(name, defaultDB string) (db, table string) {
	unquote := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) >= 2 && s[0] == '`' && s[len(s)-1] == '`' {
			return strings.ReplaceAll(s[1:len(s)-1], "``", "`")
		}
		return s
	}
	// A dot inside backquotes belongs to the name.
	inQuotes := false
	for i, c := range name {
		switch {
		case c == '`':
			inQuotes = !inQuotes
		case c == '.' && !inQuotes:
			return unquote(name[:i]), unquote(name[i+1:])
		}
	}
	return defaultDB, unquote(name)
}

// sourceOf returns the source block of an event.
func (r *Reader) sourceOf(header *replication.EventHeader) codec.Source {
	pos := header.LogPos - header.EventSize
	if r.inPayload {
		pos = header.LogPos // the start of the compressed payload
	}
	return codec.Source{
		ServerID:    header.ServerID,
		GTID:        r.txnGTID,
		File:        r.file,
		Pos:         pos,
		TimestampMs: int64(header.Timestamp) * 1000,
	}
}

// end closes the current transaction and returns the position after it.
func (r *Reader) end(header *replication.EventHeader) Step {
	if r.txnGTID != "" {
		if err := r.gtids.Update(r.txnGTID); err != nil {
			r.log.Warn().Err(err).Str("gtid", r.txnGTID).Msg("could not add a GTID to the executed set")
		}
	}
	r.inTxn = false
	r.txnGTID = ""
	end := offsets.Position{
		ServerID:   r.server.ServerID,
		Flavor:     r.server.Flavor,
		File:       r.file,
		Pos:        header.LogPos,
		GTIDSet:    r.gtids.String(),
		CapturedAt: time.Now().UTC(),
	}
	r.txnStart = end
	r.rowsEvents, r.skipRowsEvents = 0, 0
	return Step{End: true, Position: end, Time: time.Unix(int64(header.Timestamp), 0)}
}

// SplitPosition returns the position inside the current transaction after
// its last rows event read: where a Kafka transaction that ends there can
// be resumed from.
func (r *Reader) SplitPosition() offsets.Position {
	p := r.txnStart
	p.SkipRowsEvents = r.rowsEvents
	p.CapturedAt = time.Now().UTC()
	return p
}

// tableMap caches the schema of a captured table. A table id names the same
// table only until the next ALTER or server restart, so a cached entry is
// reused only while the event matches it byte for byte.
func (r *Reader) tableMap(e *replication.TableMapEvent, header *replication.EventHeader) error {
	if !r.cfg.Filter.CapturesTable(string(e.Schema), string(e.Table)) {
		return nil
	}
	if cached, ok := r.tables[e.TableID]; ok && sameTableMap(cached.event, e) {
		return nil
	}
	table, err := schema.FromTableMap(e)
	if errors.Is(err, schema.ErrNoColumnNames) {
		table, err = r.describedTable(e, header)
	}
	if err != nil {
		return err
	}
	for i := range table.Columns {
		c := &table.Columns[i]
		if c.Collation != 0 {
			c.Charset = r.server.Charsets[c.Collation]
		}
		c.Treatment = r.cfg.Filter.Column(table.Database, table.Name, c.Name)
	}
	if len(table.PrimaryKey) == 0 || r.needsDataTypes(table) {
		facts, err := r.catalog.facts(table.Database, table.Name)
		if err != nil {
			return err
		}
		if !facts.apply(table) && !r.keyless[table.String()] {
			r.keyless[table.String()] = true
			r.log.Warn().Str("table", table.String()).
				Msg("table has no primary key and no unique index on NOT NULL columns: its records get a null key")
		}
	}
	r.tables[e.TableID] = &cachedTable{event: e, table: table}
	return nil
}

// recordDDL marks in the schema history that tables may have changed at
// position at, and records the new description of each captured table the
// statement names. An ALTER TABLE that applyAlter models is applied to the
// description before it, which is right however far information_schema has
// moved on. Any other statement is described from information_schema as it
// is now: read soon after the statement, that is the schema it made, and a
// later change of the same table shows up as a mismatch when its events
// are decoded.
func (r *Reader) recordDDL(stmt ast.StmtNode, parseErr error, defaultDB string, at offsets.Position) error {
	if r.history.covers(at) {
		return nil
	}
	if parseErr != nil {
		// Which tables changed is unknown, so every table is described
		// anew at its next event.
		return r.history.append(historyEntry{File: at.File, Pos: at.Pos})
	}
	tables := tablesOf(stmt, defaultDB)
	bases := make([]*schema.Described, len(tables))
	for i, t := range tables {
		bases[i] = r.history.lookup(t.db, t.name, at)
	}
	for _, t := range tables {
		if t.name == "" {
			continue
		}
		if err := r.history.append(historyEntry{File: at.File, Pos: at.Pos, Database: t.db, Table: t.name}); err != nil {
			return err
		}
	}
	renamed := renamedTables(stmt, defaultDB)
	for i, t := range tables {
		if t.name == "" || !r.cfg.Filter.CapturesTable(t.db, t.name) {
			continue
		}
		d, applied := applyAlter(stmt, bases[i])
		if !applied {
			d, applied = r.describeCreated(stmt, t)
		}
		if !applied {
			// The new name of a RENAME TABLE takes the old name's columns.
			if old, ok := renamed[t]; ok {
				for j, named := range tables {
					if named == old && bases[j] != nil {
						d, applied = bases[j], true
					}
				}
			}
		}
		if !applied {
			var err error
			if d, err = r.catalog.describe(t.db, t.name); err != nil {
				continue // dropped or renamed away: nothing to describe
			}
		}
		if err := r.history.append(historyEntry{File: at.File, Pos: at.Pos, Database: t.db, Table: t.name, Described: d}); err != nil {
			return err
		}
	}
	return nil
}

// describeCreated describes the table a CREATE TABLE statement makes, from
// the statement itself.
func (r *Reader) describeCreated(stmt ast.StmtNode, t tableName) (*schema.Described, bool) {
	create, ok := stmt.(*ast.CreateTableStmt)
	if !ok {
		return nil, false
	}
	return describeCreate(create, t.db, r.catalog.databaseCharset)
}

// renamedTables maps each new name of a RENAME TABLE statement to the old
// one.
func renamedTables(stmt ast.StmtNode, defaultDB string) map[tableName]tableName {
	rename, ok := stmt.(*ast.RenameTableStmt)
	if !ok {
		return nil
	}
	qualify := func(t *ast.TableName) tableName {
		if t.Schema.O == "" {
			return tableName{db: defaultDB, name: t.Name.O}
		}
		return tableName{db: t.Schema.O, name: t.Name.O}
	}
	out := map[tableName]tableName{}
	for _, pair := range rename.TableToTables {
		out[qualify(pair.NewTable)] = qualify(pair.OldTable)
	}
	return out
}

// DescribeCapturedTables records the current description of every captured
// table in the schema history at position at. Call it only when reading
// starts at the server's current position, where now and the position
// agree; a server with binlog_row_metadata=FULL needs no history.
func DescribeCapturedTables(ctx context.Context, cfg *Config, server *Server, at offsets.Position) error {
	if server.RowMetadata == "FULL" {
		return nil
	}
	h, err := loadHistory(cfg.HistoryPath)
	if err != nil {
		return err
	}
	tables, err := CapturedTables(ctx, cfg)
	if err != nil {
		return err
	}
	c := newCatalog(cfg)
	defer c.close()
	for _, t := range tables {
		d, err := c.describe(t[0], t[1])
		if err != nil {
			return err
		}
		if err := h.append(historyEntry{File: at.File, Pos: at.Pos, Database: t[0], Table: t[1], Described: d}); err != nil {
			return err
		}
	}
	return nil
}

// describedTable builds a table from a TABLE_MAP event without column
// names (binlog_row_metadata=MINIMAL): from the schema history when it has
// the table's description at this position, or else from information_schema,
// recording that description in the history first.
func (r *Reader) describedTable(e *replication.TableMapEvent, header *replication.EventHeader) (*schema.Table, error) {
	db, name := string(e.Schema), string(e.Table)
	at := positionAt(r.file, r.sourceOf(header).Pos)
	if d := r.history.lookup(db, name, at); d != nil {
		return schema.FromDescription(e, d)
	}
	d, err := r.catalog.describe(db, name)
	if err != nil {
		return nil, err
	}
	table, err := schema.FromDescription(e, d)
	if err != nil {
		return nil, fmt.Errorf("binlog %s:%d: %w; with binlog_row_metadata=MINIMAL sluice knows a table's columns "+
			"only as they are now or as it recorded them while streaming: set binlog_row_metadata=FULL", r.file, at.Pos, err)
	}
	if err := r.history.append(historyEntry{File: at.File, Pos: at.Pos, Database: db, Table: name, Described: d}); err != nil {
		return nil, err
	}
	return table, nil
}

// needsDataTypes reports whether a MariaDB table has a BINARY(4) or
// BINARY(16) column, which may be an INET4, INET6 or UUID column that the
// binlog does not tell apart from BINARY.
func (r *Reader) needsDataTypes(table *schema.Table) bool {
	if r.server.Flavor != mysql.MariaDBFlavor {
		return false
	}
	for i := range table.Columns {
		c := &table.Columns[i]
		if c.Type == mysql.MYSQL_TYPE_STRING && c.IsBinary() {
			return true
		}
	}
	return false
}

func sameTableMap(a, b *replication.TableMapEvent) bool {
	return bytes.Equal(a.Schema, b.Schema) && bytes.Equal(a.Table, b.Table) &&
		bytes.Equal(a.ColumnType, b.ColumnType) && slices.Equal(a.ColumnMeta, b.ColumnMeta) &&
		slices.EqualFunc(a.ColumnName, b.ColumnName, bytes.Equal) &&
		bytes.Equal(a.SignednessBitmap, b.SignednessBitmap) && slices.Equal(a.ColumnCharset, b.ColumnCharset) &&
		slices.Equal(a.DefaultCharset, b.DefaultCharset) && slices.Equal(a.PrimaryKey, b.PrimaryKey)
}

func (r *Reader) rows(e *replication.RowsEvent, header *replication.EventHeader) ([]codec.Change, error) {
	if e.Table == nil || !r.cfg.Filter.CapturesTable(string(e.Table.Schema), string(e.Table.Table)) {
		return nil, nil
	}
	cached, ok := r.tables[e.TableID]
	if !ok {
		return nil, fmt.Errorf("binlog %s:%d: rows event for table id %d without its TABLE_MAP event", r.file, header.LogPos, e.TableID)
	}

	for i, skipped := range e.SkippedColumns {
		if len(skipped) == 0 {
			continue
		}
		missing := make([]string, len(skipped))
		for j, index := range skipped {
			missing[j] = cached.table.Columns[index].Name
		}
		return nil, fmt.Errorf("%w at binlog %s:%d (gtid %s): table %s, row image %d lacks the columns %s; "+
			"the session that wrote it ran with binlog_row_image other than FULL, so the full row is unknown. "+
			"Keep binlog_row_image=FULL for every session",
			ErrPartialRowImage, r.file, r.sourceOf(header).Pos, r.txnGTID, cached.table, i, strings.Join(missing, ", "))
	}

	if e.Table.JsonColumnCount() > 0 {
		if err := badJSONIn(e, cached.table); err != nil {
			return nil, fmt.Errorf("binlog %s:%d (gtid %s): table %s: %w", r.file, r.sourceOf(header).Pos, r.txnGTID, cached.table, err)
		}
	}

	source := r.sourceOf(header)
	var changes []codec.Change
	switch e.Type() {
	case replication.EnumRowsEventTypeInsert:
		changes = make([]codec.Change, len(e.Rows))
		for i, row := range e.Rows {
			changes[i] = codec.Change{Table: cached.table, Op: codec.OpCreate, After: row, Source: source}
			changes[i].Source.Row = i
		}
	case replication.EnumRowsEventTypeDelete:
		changes = make([]codec.Change, len(e.Rows))
		for i, row := range e.Rows {
			changes[i] = codec.Change{Table: cached.table, Op: codec.OpDelete, Before: row, Source: source}
			changes[i].Source.Row = i
		}
	case replication.EnumRowsEventTypeUpdate, replication.EnumRowsEventTypeUnknown:
		if e.Type() == replication.EnumRowsEventTypeUnknown && !isPartialUpdate(e) {
			return nil, fmt.Errorf("binlog %s:%d: rows event of unknown type %s", r.file, header.LogPos, header.EventType)
		}
		// Update events carry the before and after image of each row in turn.
		changes = make([]codec.Change, len(e.Rows)/2)
		for i := range changes {
			changes[i] = codec.Change{Table: cached.table, Op: codec.OpUpdate, Before: e.Rows[2*i], After: e.Rows[2*i+1], Source: source}
			changes[i].Source.Row = i
		}
	default:
		return nil, fmt.Errorf("binlog %s:%d: rows event of unknown type %s", r.file, header.LogPos, header.EventType)
	}
	return changes, nil
}
