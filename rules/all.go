package rules

// All returns every rule in the catalog, in a fixed order.
func All() []*Rule { return all }

// ByID returns the rule with the given id, or nil.
func ByID(id string) *Rule { return byID[id] }

var all = []*Rule{
	// Input
	SyntaxError,
	InvalidDirective,
	UnusedDirective,
	UnanalysedDynamicSQL,

	// Locks, scans and rewrites
	RequireConcurrentIndexCreation,
	RequireConcurrentIndexDeletion,
	BanConcurrentIndexCreationInTransaction,
	RequireConcurrentReindex,
	RequireConcurrentPartitionDetach,
	AddingFieldWithDefault,
	AddingSerialPrimaryKeyField,
	DisallowedUniqueConstraint,
	ConstraintMissingNotValid,
	AddingForeignKeyConstraint,
	ValidateInSameTransaction,
	AddingNotNullableField,
	ChangingColumnType,
	TableRewrite,
	BanExclusionConstraint,
	DDLAfterAccessExclusive,
	BanCreateDomainWithConstraint,
	BanAlterDomainWithAddConstraint,
	UnbatchedBackfill,
	RequireLockTimeout,
	RequireStatementTimeout,
	FKMissingIndex,

	// Destructive
	BanTruncateCascade,
	DuplicateColumnAssignment,
	BanDropDatabase,

	// Blue-green compatibility
	BanDropColumn,
	BanDropTable,
	BanDropSchema,
	BanDropView,
	BanDropFunction,
	BanDropDefault,
	TighteningConstraint,
	RenamingColumn,
	RenamingTable,
	RenamingEnumValue,
	BanSetSchema,
	AddingRequiredField,
	BanDropNotNull,
	RLSOrPrivilegeChange,
	MixedExpandContract,

	// Releases (lint --changed-since)
	ModifiedReleasedMigration,
	ContractTooEarly,
	ContractWithoutExpand,

	// Transactions and identifiers
	IdentifierTooLong,
	TransactionNesting,
	BanUncommittedTransaction,

	// Style (opt-in)
	PreferBigintOverInt,
	PreferBigintOverSmallint,
	PreferIdentity,
	PreferTextField,
	PreferTimestampTZ,
	BanCharField,
	PreferRobustStmts,
	RequireTableSchema,
	PreferJSONB,
	RequireEnumValueOrdering,
	AvoidEnumType,
	CombineAlterTable,
}

var byID = func() map[string]*Rule {
	m := map[string]*Rule{}
	for _, r := range all {
		m[r.ID] = r
	}
	return m
}()
